//! Generates include/llmring.h from the `extern "C"` functions in src/ffi with cbindgen.
//! The header is committed; CI regenerates it and fails when it differs. Also sets the
//! shared library's SONAME / install name.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let version = |name: &str| env::var(name).expect("set by cargo");
    config.after_includes = Some(format!(
        "\n#define LLMRING_VERSION \"{}\"\n#define LLMRING_VERSION_MAJOR {}\n\
         #define LLMRING_VERSION_MINOR {}\n#define LLMRING_VERSION_PATCH {}\n",
        version("CARGO_PKG_VERSION"),
        version("CARGO_PKG_VERSION_MAJOR"),
        version("CARGO_PKG_VERSION_MINOR"),
        version("CARGO_PKG_VERSION_PATCH"),
    ));

    // The shared library's SONAME (Linux) and install name (macOS) carry the major version of
    // Cargo.toml's version (0 while it is 0.x): libllmring.so.0, @rpath/libllmring.0.dylib.
    // CMakeLists.txt installs the library under that name beside a libllmring.so symlink.
    let major = version("CARGO_PKG_VERSION_MAJOR");
    match env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libllmring.so.{major}");
        }
        Ok("macos") => {
            println!(
                "cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libllmring.{major}.dylib"
            );
        }
        _ => {}
    }

    // Only src/ffi is read (cbindgen follows its `mod` items): the header shows the C ABI
    // and nothing of the core.
    let builder = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/ffi/mod.rs"));
    match builder.generate() {
        Ok(bindings) => {
            bindings.write_to_file(crate_dir.join("include/llmring.h"));
        }
        // A syntax error in the crate is reported by rustc itself, with better messages.
        Err(cbindgen::Error::ParseSyntaxError { .. }) => {}
        Err(e) => panic!("cbindgen failed: {e}"),
    }
}
