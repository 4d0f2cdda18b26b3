//! The actions: `dbaas_failover` (the primary steps down) and `dbaas_restart` (a node, or every
//! node in turn, restarts). Each asks the API once, never twice (a lost reply is not re-sent:
//! the operation may have started), waits while the database is busy with another change
//! before that, and waits until it is READY again after, reporting progress as it goes.

use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::Client;
use super::database::{database_status, wait_ready};
use super::errors::{api_error, wait_error};
use super::support::refuse_unsupported;
use super::wait::until_ready;
use crate::api::{self, Feature};
use crate::tfplugin::action::{Action, Progress};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::path::AttributePath;
use crate::tfplugin::resource::Context;
use crate::tfplugin::schema::{Attribute, Block, Schema};
use crate::tfplugin::timeouts::parse_duration;
use crate::tfplugin::value::Value;

/// How long an action waits for the database to be READY again, unless `timeout` says.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// `dbaas_failover` or `dbaas_restart`.
#[derive(Debug)]
pub(super) struct MaintenanceAction {
    kind: Maintenance,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Maintenance {
    Failover,
    Restart,
}

pub(super) const FAILOVER: MaintenanceAction = MaintenanceAction {
    kind: Maintenance::Failover,
};
pub(super) const RESTART: MaintenanceAction = MaintenanceAction {
    kind: Maintenance::Restart,
};

impl MaintenanceAction {
    fn feature(&self) -> Feature {
        match self.kind {
            Maintenance::Failover => Feature::Failover,
            Maintenance::Restart => Feature::Restart,
        }
    }

    fn doing(&self, config: &Value) -> String {
        match (self.kind, config.attr("node").as_i64()) {
            (Maintenance::Failover, _) => "failover".to_owned(),
            (Maintenance::Restart, Some(node)) => format!("restart of node {node}"),
            (Maintenance::Restart, None) => "restart of every node".to_owned(),
        }
    }
}

#[async_trait]
impl Action<Client> for MaintenanceAction {
    fn type_name(&self) -> &'static str {
        match self.kind {
            Maintenance::Failover => "dbaas_failover",
            Maintenance::Restart => "dbaas_restart",
        }
    }

    fn schema(&self) -> Schema {
        let what = match self.kind {
            Maintenance::Failover => {
                "Fails a database over: its primary steps down and a secondary takes over. The \
                 action waits until the database is READY again."
            }
            Maintenance::Restart => {
                "Restarts one node of a database, or every node in turn. The action waits until \
                 the database is READY again."
            }
        };
        let mut block = Block::new(what)
            .attribute(
                Attribute::string("database_id")
                    .required()
                    .description("The database (`db-…`, or the API's id)."),
            )
            .attribute(Attribute::string("timeout").optional().description(
                "How long to wait for the database to be READY again, such as `45m`. \
                 Default: `30m`.",
            ));
        if self.kind == Maintenance::Restart {
            block = block.attribute(Attribute::number("node").optional().description(
                "The node to restart, from 1 to the database's `node_count`. Default: every \
                 node in turn.",
            ));
        }
        Schema::new(block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config
            .attr("database_id")
            .as_str()
            .is_some_and(|id| id.trim().is_empty())
        {
            diags.attribute_error(
                AttributePath::attr("database_id"),
                "Invalid Database ID",
                "`database_id` must name a database, e.g. `dbaas_database.client.id`.",
            );
        }
        if let Some(text) = config.attr("timeout").as_str()
            && let Err(why) = parse_duration(text)
        {
            diags.attribute_error(AttributePath::attr("timeout"), "Invalid Timeout", why);
        }
        let node = config.attr("node");
        if node.is_known() && !node.is_null() && node.as_i64().is_none_or(|n| n < 1) {
            diags.attribute_error(
                AttributePath::attr("node"),
                "Invalid Node",
                "`node` is a node number, from 1 to the database's `node_count`.",
            );
        }
    }

    fn plan(&self, client: &Client, config: &Value, diags: &mut Diagnostics) {
        refuse_unsupported(client, config, &[self.feature()], diags);
    }

    async fn invoke(
        &self,
        ctx: &Context<'_, Client>,
        config: &Value,
        progress: &Progress,
    ) -> Diagnostics {
        let client = ctx.client;
        let api = &client.api;
        let Some(id) = config.attr("database_id").as_str() else {
            return Diagnostics::from_error("Invalid Database ID", "`database_id` is not set.");
        };
        let timeout = config
            .attr("timeout")
            .as_str()
            .and_then(|text| parse_duration(text).ok())
            .unwrap_or(DEFAULT_TIMEOUT);
        let node = config
            .attr("node")
            .as_i64()
            .and_then(|n| u32::try_from(n).ok());
        let doing = self.doing(config);
        let started = Instant::now();
        progress.report(format!(
            "database {id}: waiting until it is READY to start the {doing}"
        ));
        // Busy with another change: the operation waits its turn (the API refuses it meanwhile).
        if let Err((_, err)) = wait_ready(ctx, id, timeout, false, None).await {
            return wait_error(
                "Error Waiting For Database",
                &format!("database {id}"),
                api.api_name(),
                &err,
                false,
                &[],
            );
        }
        let reply = match self.kind {
            Maintenance::Failover => api.failover_database(id).await,
            Maintenance::Restart => api.restart_database(id, node).await,
        };
        let reply = match reply {
            Ok(reply) => reply,
            // What the database cannot do (a node it does not have): not a duplicate.
            Err(api::Error::Conflict { message }) => {
                return Diagnostics::from(
                    crate::tfplugin::diag::Diagnostic::error(
                        format!("Error Starting The {}", capitalised(&doing)),
                        format!(
                            "The {} API refused the {doing} of database {id}: {message}",
                            api.api_name()
                        ),
                    )
                    .with_path(AttributePath::attr("node")),
                );
            }
            Err(err) => {
                return api_error(
                    &format!("Error Starting The {}", capitalised(&doing)),
                    &format!("database {id}"),
                    api.api_name(),
                    &err,
                    &["node"],
                );
            }
        };
        progress.report(format!(
            "database {id}: {doing} started ({}{})",
            reply.status.raw,
            reply
                .status
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
        match until_ready(
            &format!("database {id}"),
            // `timeout` bounds the whole action, the wait for its turn included.
            &client.wait_policy(timeout.saturating_sub(started.elapsed())),
            ctx.cancel,
            database_status,
            Some(&reply),
            |hold| api.get_database_in_maintenance(id, hold),
        )
        .await
        {
            Ok(_) => {
                progress.report(format!(
                    "database {id}: READY again after the {doing} ({:.1} s)",
                    started.elapsed().as_secs_f64()
                ));
                Diagnostics::new()
            }
            Err((_, err)) => wait_error(
                &format!("Error Waiting For The {}", capitalised(&doing)),
                &format!("database {id}"),
                api.api_name(),
                &err,
                false,
                &[],
            ),
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
