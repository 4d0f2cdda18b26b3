//! Actions (Terraform 1.14+): operations on existing objects that are not objects themselves,
//! run by `terraform apply -invoke=action.<type>.<name>` or a resource's `action_trigger`.
//! An action is checked at plan time (schema, then what the configured API offers) and, when
//! invoked, reports progress while it runs.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::diag::Diagnostics;
use super::resource::Context;
use super::schema::Schema;
use super::value::Value;

/// An action type.
#[async_trait]
pub trait Action<C>: Send + Sync {
    /// Full type name, e.g. `dbaas_failover`.
    fn type_name(&self) -> &'static str;

    /// Schema of the action's `config` block.
    fn schema(&self) -> Schema;

    /// Checks the configuration without a client. Values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Plan-time checks that need the configured client, such as whether its API offers the
    /// operation, so a refusal comes before anything runs.
    fn plan(&self, _client: &C, _config: &Value, _diags: &mut Diagnostics) {}

    /// Runs the action to its end, sending what it is doing to `progress` as it goes.
    async fn invoke(
        &self,
        ctx: &Context<'_, C>,
        config: &Value,
        progress: &Progress,
    ) -> Diagnostics;
}

/// Where a running action reports what it is doing; each message reaches Terraform at once.
#[derive(Clone, Debug)]
pub struct Progress(mpsc::UnboundedSender<String>);

impl Progress {
    /// A reporter and the receiving end the protocol layer streams from.
    pub(crate) fn channel() -> (Self, mpsc::UnboundedReceiver<String>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Self(sender), receiver)
    }

    /// Shows `message` to the user while the action runs.
    pub fn report(&self, message: impl Into<String>) {
        // The stream is gone only when Terraform stopped listening; the action still finishes.
        let _ = self.0.send(message.into());
    }
}
