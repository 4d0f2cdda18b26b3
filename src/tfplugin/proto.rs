//! Generated protocol code (see `build.rs` and `proto/`): the Terraform plugin protocol
//! 6.10 as released in Terraform v1.15 (`tfplugin6`) and go-plugin's own services
//! (`plugin`: controller, stdio, broker).

/// `tfplugin6`: the provider service and its messages. The package name is part of the
/// wire method paths (`/tfplugin6.Provider/...`).
#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::large_enum_variant,
    clippy::doc_lazy_continuation
)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// `plugin`: go-plugin's controller (Shutdown), stdio and broker services.
#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::doc_lazy_continuation
)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
