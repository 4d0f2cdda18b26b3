//! The Terraform plugin protocol, version 6 (Terraform 1.15 level). Knows nothing about databases.
//!
//! - `serve`, `log`: the go-plugin handshake, mTLS, and hclog-style logs on stderr.
//! - `value`, `schema`, `path`, `diag`: the protocol-agnostic model of values and schemas.
//! - `resource`: the traits a provider implements; `plan` and `timeouts`: rules every resource shares.
//! - `function`: provider-defined functions, pure computations without a configured client.
//! - `rpc`: the tfplugin6 service that adapts wire requests to those traits.
//! - `proto`: generated code.

pub mod action;
pub mod diag;
pub mod function;
pub mod log;
pub mod path;
pub mod plan;
pub mod proto;
pub mod refinement;
pub mod resource;
pub mod rpc;
pub mod schema;
pub mod serve;
pub mod timeouts;
pub mod value;
