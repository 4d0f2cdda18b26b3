//! RPCs that no type of this provider uses yet. Each answers with a diagnostic that says what is not
//! offered, never with a gRPC error or a panic, so Terraform shows the user a sentence.

use futures::stream;
use tonic::codegen::BoxStream;

use super::convert;
use super::pb;
use crate::tfplugin::diag::Diagnostics;

fn not_offered(kind: &str, name: &str) -> Vec<pb::Diagnostic> {
    convert::diagnostics(Diagnostics::from_error(
        format!("Unsupported {kind}"),
        format!("The dbaas provider offers no {kind} named \"{name}\"."),
    ))
}

pub(super) fn move_resource_state(
    request: pb::move_resource_state::Request,
) -> pb::move_resource_state::Response {
    pb::move_resource_state::Response {
        diagnostics: convert::diagnostics(Diagnostics::from_error(
            "Unsupported Resource Move",
            format!(
                "The dbaas provider cannot move \"{}\" state into \"{}\": moving state between \
                 resource types is not offered. Remove the `moved` block and import the object \
                 into the new resource instead.",
                request.source_type_name, request.target_type_name
            ),
        )),
        ..Default::default()
    }
}

pub(super) fn validate_state_store(
    request: pb::validate_state_store::Request,
) -> pb::validate_state_store::Response {
    pb::validate_state_store::Response {
        diagnostics: not_offered("state store", &request.type_name),
    }
}

pub(super) fn configure_state_store(
    request: pb::configure_state_store::Request,
) -> pb::configure_state_store::Response {
    pb::configure_state_store::Response {
        diagnostics: not_offered("state store", &request.type_name),
        capabilities: None,
    }
}

pub(super) fn read_state_bytes(
    request: pb::read_state_bytes::Request,
) -> BoxStream<pb::read_state_bytes::Response> {
    let response = pb::read_state_bytes::Response {
        diagnostics: not_offered("state store", &request.type_name),
        ..Default::default()
    };
    Box::pin(stream::iter([Ok(response)]))
}

pub(super) fn write_state_bytes() -> pb::write_state_bytes::Response {
    pb::write_state_bytes::Response {
        diagnostics: convert::diagnostics(Diagnostics::from_error(
            "Unsupported state store",
            "The dbaas provider offers no state store.",
        )),
    }
}

pub(super) fn lock_state(request: pb::lock_state::Request) -> pb::lock_state::Response {
    pb::lock_state::Response {
        lock_id: String::new(),
        diagnostics: not_offered("state store", &request.type_name),
    }
}

pub(super) fn unlock_state(request: pb::unlock_state::Request) -> pb::unlock_state::Response {
    pb::unlock_state::Response {
        diagnostics: not_offered("state store", &request.type_name),
    }
}

pub(super) fn get_states(request: pb::get_states::Request) -> pb::get_states::Response {
    pb::get_states::Response {
        state_id: Vec::new(),
        diagnostics: not_offered("state store", &request.type_name),
    }
}

pub(super) fn delete_state(request: pb::delete_state::Request) -> pb::delete_state::Response {
    pb::delete_state::Response {
        diagnostics: not_offered("state store", &request.type_name),
    }
}
