//! terraform-provider-dbaas: a Terraform/OpenTofu provider for managed databases, and
//! `dbaas-local`, the local DBaaS service it uses by default.
//!
//! # Layout
//!
//! The arrows between modules go one way: `tfplugin` ← `provider` → `api` ← (tests) and
//! `local` stands alone.
//!
//! - [`tfplugin`]: the Terraform plugin protocol (tfplugin6 over gRPC, go-plugin handshake,
//!   values, schemas, diagnostics, logging). It knows nothing about databases.
//! - [`provider`]: the provider configuration and the resource types, written against the
//!   traits of `tfplugin` and the API trait of `api`. It knows nothing about HTTP.
//! - [`api`]: the vendor API layer: one async trait, one client module per API, and the only
//!   HTTP client (retries, rate limit, redaction).
//! - [`local`]: the `dbaas-local` service: SQLite store, lifecycle, native REST API. It never
//!   imports the clients.
//! - [`cidr`]: IP networks in CIDR notation, the one parser the provider, the OVH client and
//!   dbaas-local use; it imports nothing of the crate.
//! - [`duration`]: Go-style durations, the one parser every layer uses (`timeouts`, provider
//!   settings, dbaas-local flags); it imports nothing of the crate.
//! - [`docs`]: the registry documentation (`docs/`), generated from the provider's own schemas
//!   and the examples under `examples/` by the `dbaas-docs` binary (`make docs`).
//! - `fuzzing` (hidden): one entry point per fuzz target (`fuzz/`, `make fuzz`), shared with the
//!   test that replays their corpus; not an API.

pub mod api;
pub mod cidr;
pub mod docs;
pub mod duration;
#[doc(hidden)]
pub mod fuzzing;
pub mod local;
pub mod provider;
pub mod tfplugin;
