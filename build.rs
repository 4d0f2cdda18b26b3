//! Generates the gRPC code for the Terraform plugin protocol (`tfplugin6`) and go-plugin's
//! services (`plugin`). Uses `protox` (pure Rust) so a fresh machine needs no `protoc`.

use std::path::Path;

const PROTO_DIR: &str = "proto";
const PROTO_FILES: [&str; 4] = [
    "tfplugin6.proto",
    "grpc_controller.proto",
    "grpc_stdio.proto",
    "grpc_broker.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_DIR}");
    for file in PROTO_FILES {
        println!(
            "cargo:rerun-if-changed={}",
            Path::new(PROTO_DIR).join(file).display()
        );
    }

    let descriptors = protox::compile(PROTO_FILES, [PROTO_DIR])?;
    tonic_prost_build::configure()
        // The plugin serves; tests (and tooling) use the clients to talk to it.
        .build_server(true)
        .build_client(true)
        // RPCs the provider does not implement answer `Unimplemented`, which Terraform
        // tolerates for the optional ones.
        .generate_default_stubs(true)
        .emit_rerun_if_changed(false)
        .compile_fds(descriptors)?;
    Ok(())
}
