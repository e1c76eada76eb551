//! Commands that need no registry, and the errors of those that do when there is
//! none: the built binary, run in a temporary directory with a private configuration
//! directory and no standard input, its stdout, stderr and exit code snapshotted.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Env {
    dir: tempfile::TempDir,
    config: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            config: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str], vars: &[(&str, &str)]) -> String {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_govstore"));
        cmd.args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .env("NO_COLOR", "1")
            .env("GOVSTORE_CONFIG_DIR", self.config.path())
            .env_remove("GOVSTORE_TOKEN")
            .env_remove("GOVSTORE_REGISTRY")
            .env_remove("GOVSTORE_KEY_PASSWORD");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("the govstore binary runs");
        let text = format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            out.status.code().map_or("signal".to_owned(), |c| c.to_string()),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        redact_key_ids(&text.replace(&self.config.path().display().to_string(), "[CONFIG]"))
    }
}

/// Key ids are random; everything else in the output is not.
fn redact_key_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("key id:      sha256:") {
        let start = i + "key id:      ".len();
        out.push_str(&rest[..start]);
        out.push_str("sha256:[KEY ID]");
        rest = &rest[start + 71..];
    }
    out.push_str(rest);
    out
}

const PASSWORD: (&str, &str) = ("GOVSTORE_KEY_PASSWORD", "correct horse");

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads() {
    let env = Env::new();
    insta::assert_snapshot!(env.run(&["keygen"], &[PASSWORD]));
    let mode = |f: &str| std::fs::metadata(env.path().join(f)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("cosign.key"), 0o600);
    let private = std::fs::read_to_string(env.path().join("cosign.key")).unwrap();
    assert!(
        private.starts_with("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n"),
        "{private}"
    );
    let public = std::fs::read_to_string(env.path().join("cosign.pub")).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{public}");
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let env = Env::new();
    std::fs::write(env.path().join("cosign.key"), "precious").unwrap();
    insta::assert_snapshot!(env.run(&["keygen"], &[PASSWORD]));
    assert_eq!(
        std::fs::read_to_string(env.path().join("cosign.key")).unwrap(),
        "precious"
    );
    let out = env.run(&["keygen", "--force", "--json"], &[PASSWORD]);
    assert!(
        out.starts_with("exit: 0\n--- stdout\n{\n  \"key_id\": \"sha256:"),
        "{out}"
    );
    assert_eq!(
        std::fs::metadata(env.path().join("cosign.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn keygen_without_a_password_or_a_terminal() {
    insta::assert_snapshot!(Env::new().run(&["keygen"], &[]));
}

#[test]
fn publish_dry_run_is_deterministic() {
    let env = Env::new();
    let dir = repo().join("catalog-examples/mosip-esignet");
    let dir = dir.to_str().unwrap();
    let first = env.run(&["publish", dir, "--dry-run"], &[]);
    assert_eq!(first, env.run(&["publish", dir, "--dry-run"], &[]));
    insta::assert_snapshot!(first);
}

#[test]
fn publish_refuses_a_link_out_of_the_package() {
    let env = Env::new();
    let pkg = env.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    std::fs::write(
        pkg.join("govstore.toml"),
        "[package]\nname = \"acme/app\"\nversion = \"1.0.0\"\ndescription = \"An app\"\nlicense = \"MIT\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", pkg.join("passwd")).unwrap();
    insta::assert_snapshot!(env.run(&["publish", "pkg", "--dry-run"], &[]));
}

#[test]
fn publish_needs_a_registry_a_login_and_a_key() {
    let env = Env::new();
    let dir = repo().join("catalog-examples/mosip-esignet");
    let dir = dir.to_str().unwrap();
    insta::assert_snapshot!("no_registry", env.run(&["publish", dir], &[]));
    insta::assert_snapshot!(
        "not_logged_in",
        env.run(&["publish", dir, "--registry", "http://127.0.0.1:1"], &[])
    );
    insta::assert_snapshot!(
        "no_key",
        env.run(
            &["publish", dir],
            &[("GOVSTORE_REGISTRY", "http://127.0.0.1:1"), ("GOVSTORE_TOKEN", "gvs_x")]
        )
    );
}

#[test]
fn registry_down() {
    let env = Env::new();
    insta::assert_snapshot!(env.run(&["info", "mosip/esignet", "--registry", "http://127.0.0.1:1"], &[]));
}

#[test]
fn name_version_arguments() {
    let env = Env::new();
    let reg = ("GOVSTORE_REGISTRY", "http://127.0.0.1:1");
    insta::assert_snapshot!("no_version", env.run(&["verify", "mosip/esignet"], &[reg]));
    insta::assert_snapshot!(
        "bad_name",
        env.run(&["yank", "Mosip/esignet@1.0.0", "--reason", "x"], &[reg])
    );
    insta::assert_snapshot!(
        "bad_version",
        env.run(&["yank", "mosip/esignet@1.0", "--reason", "x"], &[reg])
    );
    insta::assert_snapshot!("yank_needs_a_reason", env.run(&["yank", "mosip/esignet@1.0.0"], &[]));
}

#[test]
fn login_needs_a_registry_and_a_token() {
    let env = Env::new();
    insta::assert_snapshot!("login_no_registry", env.run(&["login", "--token", "gvs_x"], &[]));
    insta::assert_snapshot!(
        "login_empty_token",
        env.run(&["login", "--registry", "http://127.0.0.1:1"], &[])
    );
    insta::assert_snapshot!(
        "login_bad_url",
        env.run(&["login", "--registry", "localhost:8080", "--token", "gvs_x"], &[])
    );
}

#[test]
fn key_register_refuses_a_private_key() {
    let env = Env::new();
    env.run(&["keygen"], &[PASSWORD]);
    insta::assert_snapshot!(env.run(
        &["key", "register", "--namespace", "acme", "--key", "cosign.key"],
        &[("GOVSTORE_REGISTRY", "http://127.0.0.1:1"), ("GOVSTORE_TOKEN", "gvs_x")]
    ));
}

#[test]
fn help_lists_every_command() {
    insta::assert_snapshot!(Env::new().run(&["--help"], &[]));
}
