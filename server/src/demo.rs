//! `serve --demo`: a registry that is useful from its first command. Creates a demo
//! admin, one organisation per namespace of the example catalogue with a signing key
//! each, publishes every spec, then publishes every example package signed, over HTTP
//! to this very server, through `govstore_client::publish`: the same path as
//! `govstore publish`, with every check the registry makes. Re-running on the same
//! data directory skips what is already there. A web user, [`DEMO_WEB_USER`], gets a
//! new random password at every run (printed with the admin token), to try sign-in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use govstore_client::progress::{NoProgress, Progress};
use govstore_client::publish::{PublishError, PublishOptions, publish, read_manifest};
use govstore_client::registry::RegistryClient;
use govstore_signing::KeyPair;

use crate::admin;
use crate::db;
use crate::state::AppState;

const DEMO_USER: &str = "demo";
/// The demo's web user (no admin), for trying the web sign-in.
pub const DEMO_WEB_USER: &str = "amara";
/// The password of the demo keys written under `DATA/demo-keys/`.
pub const DEMO_KEY_PASSWORD: &str = "demo";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot read the catalogue at {path}: {source}")]
    Catalogue { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Admin(#[from] admin::AdminError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("signing key: {0}")]
    Key(#[from] govstore_signing::SigningError),
    #[error("cannot write the demo key {path}: {source}")]
    WriteKey { path: PathBuf, source: std::io::Error },
    #[error("registry client: {0}")]
    Client(#[from] govstore_client::registry::ClientError),
    #[error("spec {path}: {message}")]
    Spec { path: PathBuf, message: String },
    #[error("package {dir}: {source}")]
    Publish { dir: PathBuf, source: Box<PublishError> },
    #[error("demo country: {0}")]
    Country(String),
}

/// What the demo did.
#[derive(Debug, Default)]
pub struct DemoReport {
    pub token: String,
    /// [`DEMO_WEB_USER`]'s password for this run.
    pub web_password: String,
    pub specs: usize,
    pub published: usize,
    pub already_there: usize,
    /// The demo's `approved_only` stack for SL (see [`approved_stack`]).
    pub approved_stack: Option<PathBuf>,
    /// The demo bundle (see [`demo_bundle`]).
    pub bundle: Option<DemoBundle>,
}

/// The demo's bundle of SL: [`DEMO_BUNDLE`].
pub const DEMO_BUNDLE: &str = "SL/national-id@2026.1";

/// The demo bundle and the commands that pull it.
#[derive(Debug, Clone)]
pub struct DemoBundle {
    /// `SL/national-id@2026.1`.
    pub reference: String,
    /// Its page.
    pub url: String,
    /// `govstore --registry URL pull SL/national-id@2026.1 --into DIR`.
    pub pull: String,
    /// `govstore trust add SL --key ... --threshold 2`: SL's unrevoked approver keys.
    pub trust: String,
    /// Whether this run signed it (else it was there already).
    pub made: bool,
}

fn dirs_with(path: &Path, file: &str) -> Result<Vec<PathBuf>, DemoError> {
    let err = |source| DemoError::Catalogue {
        path: path.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).map_err(err)? {
        let p = entry.map_err(err)?.path();
        if p.join(file).is_file() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Publish the catalogue at `catalogue` to the server listening at `base_url`.
pub async fn run(st: &AppState, base_url: &str, catalogue: &Path) -> Result<DemoReport, DemoError> {
    let packages = dirs_with(catalogue, "govstore.toml")?;
    if db::accounts::user(&st.db.read, DEMO_USER).await?.is_none() {
        admin::create_user(&st.db, DEMO_USER, true).await?;
    }
    let token = admin::create_token(&st.db, DEMO_USER, "demo", &["admin".into()], Some(1)).await?;
    let client = RegistryClient::new(base_url, Some(token.clone()))?;

    // One organisation and key per namespace.
    let mut namespaces: Vec<String> = Vec::new();
    for dir in &packages {
        let manifest = read_manifest(dir).map_err(|e| DemoError::Publish {
            dir: dir.clone(),
            source: Box::new(e),
        })?;
        namespaces.push(manifest.package.name.namespace().to_owned());
    }
    namespaces.sort();
    namespaces.dedup();
    let keys_dir = st.config.data_dir.join("demo-keys");
    std::fs::create_dir_all(&keys_dir).map_err(|source| DemoError::WriteKey {
        path: keys_dir.clone(),
        source,
    })?;
    let mut keys = std::collections::BTreeMap::new();
    for ns in &namespaces {
        if db::accounts::organisation(&st.db.read, ns).await?.is_none() {
            admin::create_org(&st.db, ns, DEMO_USER).await?;
        }
        keys.insert(ns.clone(), demo_key(&client, &keys_dir, ns).await?);
    }

    if db::accounts::user(&st.db.read, DEMO_WEB_USER).await?.is_none() {
        admin::create_user(&st.db, DEMO_WEB_USER, false).await?;
    }
    let mut secret = [0u8; 12];
    getrandom::fill(&mut secret).map_err(|e| admin::AdminError::Random(e.to_string()))?;
    let web_password = hex::encode(secret);
    admin::set_password(&st.db, DEMO_WEB_USER, &web_password).await?;

    let mut report = DemoReport {
        token,
        web_password,
        ..Default::default()
    };
    let specs_dir = catalogue.join("specs");
    if specs_dir.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&specs_dir)
            .map_err(|source| DemoError::Catalogue {
                path: specs_dir.clone(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| DemoError::Catalogue {
                path: path.clone(),
                source,
            })?;
            client.publish_spec(&text).await.map_err(|e| DemoError::Spec {
                path: path.clone(),
                message: e.to_string(),
            })?;
            report.specs += 1;
        }
    }

    let progress: Arc<dyn Progress> = Arc::new(NoProgress);
    for dir in &packages {
        let manifest = read_manifest(dir).map_err(|e| DemoError::Publish {
            dir: dir.clone(),
            source: Box::new(e),
        })?;
        let Some(key) = keys.get(manifest.package.name.namespace()) else {
            continue;
        };
        match publish(&client, dir, key, &PublishOptions::default(), &progress).await {
            Ok(out) => {
                tracing::info!(package = %out.published.name, version = %out.published.version, "demo: published");
                report.published += 1;
            }
            Err(PublishError::Client(e)) if e.code() == Some("VERSION_EXISTS") => report.already_there += 1,
            Err(e) => {
                return Err(DemoError::Publish {
                    dir: dir.clone(),
                    source: Box::new(e),
                });
            }
        }
    }
    demo_country(st, base_url, &keys_dir, &report.web_password).await?;
    let stack = approved_stack(st).await?;
    let bundle = demo_bundle(st, base_url, &keys_dir, &stack).await?;
    report.approved_stack = Some(stack);
    // Printed here, before the caller's `govstore demo on` line, which tests wait for.
    println!(
        "demo bundle {} ({}, signed by amara and kofi, 2 of SL's threshold 2): {}",
        bundle.reference,
        if bundle.made { "made now" } else { "already there" },
        bundle.url
    );
    println!("  pin SL's approver keys: {}", bundle.trust);
    println!("  pull the bundle: {}", bundle.pull);
    report.bundle = Some(bundle);
    Ok(report)
}

/// `DATA/demo-stack-sl-approved.toml`: an `approved_only` stack for SL that pins SL's
/// unrevoked approver keys with SL's threshold, as a ministry would after checking
/// them (`govstore country show SL`). It wants identity and information mediation, so
/// it resolves to the versions SL approved 2 of 3 (eSignet 1.8.0, X-Road 7.8.0).
async fn approved_stack(st: &AppState) -> Result<PathBuf, DemoError> {
    let sl = db::countries::by_code(&st.db.read, "SL")
        .await?
        .ok_or_else(|| DemoError::Country("SL vanished".into()))?;
    let keys: Vec<String> = db::keys::list(&st.db.read, sl.organisation_id)
        .await?
        .into_iter()
        .filter(|k| k.revoked_at.is_none())
        .map(|k| format!("  \"{}\",", k.key_id))
        .collect();
    let text = format!(
        "# The demo's approved_only stack for Sierra Leone: only versions SL approved\n\
         # ({threshold} of its approver keys below) can be chosen; the CLI verifies every\n\
         # approval itself against these keys.\n\
         [stack]\ncountry = \"SL\"\nname = \"Approved identity and data exchange\"\n\n\
         [infrastructure]\norchestrator = \"vm\"\n\n\
         [infrastructure.platform]\npostgresql = \"16.2\"\nredis = \"7.2\"\njava = \"17\"\n\n\
         [policy]\napproved_only = true\n\n\
         [wants]\nspecs = {{ \"govstack/identity\" = \"^1.0\", \"govstack/information-mediator\" = \"^1.1\" }}\n\n\
         [trust]\ncountry = \"SL\"\nkeys = [\n{}\n]\nthreshold = {threshold}\n",
        keys.join("\n"),
        threshold = sl.threshold
    );
    let path = st.config.data_dir.join("demo-stack-sl-approved.toml");
    std::fs::write(&path, text).map_err(|source| DemoError::WriteKey {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// The demo bundle [`DEMO_BUNDLE`]: the versions SL approved 2 of 3 (mosip/esignet
/// 1.8.0 and x-road/security-server 7.8.0), signed by amara and kofi with their own keys
/// (`DATA/demo-keys/sl-<user>.key`), as `govstore bundle create` and `bundle sign` would:
/// the index from `core::bundle::Bundle::new`, each upload from
/// `govstore_client::bundles::signature_upload`, recorded by `service::bundles::sign`
/// with the approver as the principal (every check of the API applies). Skipped when the
/// bundle is there already (a re-run on the same data directory).
async fn demo_bundle(st: &AppState, base_url: &str, keys_dir: &Path, stack: &Path) -> Result<DemoBundle, DemoError> {
    use base64::Engine as _;
    use govstore_core::Digest;
    use govstore_core::bundle::{Bundle, BundleRef, Member};
    use govstore_core::scope::{CountryAction, Scope};

    use crate::service::{Principal, bundles};

    let fail = |e: &dyn std::fmt::Display| DemoError::Country(format!("demo bundle: {e}"));
    let reference: BundleRef = DEMO_BUNDLE.parse().map_err(|e| fail(&e))?;
    let version = reference.version.ok_or_else(|| fail(&"no version"))?;
    let sl = reference.country;
    let c = db::countries::by_code(&st.db.read, sl.as_str())
        .await?
        .ok_or_else(|| DemoError::Country("SL vanished".into()))?;
    let keys: Vec<String> = db::keys::list(&st.db.read, c.organisation_id)
        .await?
        .into_iter()
        .filter(|k| k.revoked_at.is_none())
        .map(|k| format!("--key {}", k.key_id))
        .collect();
    let out = DemoBundle {
        reference: reference.to_string(),
        url: format!("{base_url}/countries/{sl}/bundles/{}/{version}", reference.name),
        pull: format!("govstore --registry {base_url} pull {reference} --into DIR"),
        trust: format!("govstore trust add {sl} {} --threshold {}", keys.join(" "), c.threshold),
        made: false,
    };
    if db::bundles::find(&st.db.read, c.id, reference.name.as_str(), &version.to_string())
        .await?
        .is_some()
    {
        return Ok(out);
    }

    let mut members = Vec::new();
    for (name, v) in [("mosip/esignet", "1.8.0"), ("x-road/security-server", "7.8.0")] {
        let missing = || DemoError::Country(format!("{name}@{v} is not in the demo catalogue"));
        let pkg = db::packages::find(&st.db.read, name).await?.ok_or_else(missing)?;
        let row = db::packages::version(&st.db.read, pkg.id, v)
            .await?
            .ok_or_else(missing)?;
        let package: govstore_core::package::PackageName = name.parse().map_err(|e| fail(&e))?;
        let repo = db::repositories::find(&st.db.read, &package.repo_name())
            .await?
            .ok_or_else(missing)?;
        let manifest = db::manifests::find(&st.db.read, repo.id, &row.manifest_digest)
            .await?
            .ok_or_else(missing)?;
        members.push(Member {
            name: package,
            version: v.parse().map_err(|e| fail(&e))?,
            digest: row.manifest_digest.parse().map_err(|e| fail(&e))?,
            size: u64::try_from(manifest.size).map_err(|e| fail(&e))?,
        });
    }
    // The demo resolves no lockfile from its stack, so the lockfile digest is the SHA-256
    // of the demo's approved_only stack text (`DATA/demo-stack-sl-approved.toml`) and the
    // stack digest is that stack's profile digest (`Stack::digest`, what a lockfile
    // resolved for it would record).
    let text = std::fs::read_to_string(stack).map_err(|source| DemoError::Catalogue {
        path: stack.to_owned(),
        source,
    })?;
    let stack_digest = govstore_core::stack::Stack::from_toml_str(&text)
        .map(|s| s.digest())
        .map_err(|e| fail(&e))?;
    let bundle =
        Bundle::new(&reference, version, members, Digest::of(text.as_bytes()), stack_digest).map_err(|e| fail(&e))?;
    let index = bundle.to_index_json();
    let b64 = base64::engine::general_purpose::STANDARD;
    for user in [DEMO_WEB_USER, "kofi"] {
        let path = keys_dir.join(format!("sl-{user}.key"));
        let pem = std::fs::read_to_string(&path).map_err(|source| DemoError::WriteKey { path, source })?;
        let key = KeyPair::from_encrypted_pem(&pem, DEMO_KEY_PASSWORD.as_bytes())?;
        let now = govstore_core::time::rfc3339(crate::now_ms() / 1000);
        let upload = govstore_client::bundles::signature_upload(&bundle, &index, &key, Some(user), &now)
            .map_err(|e| fail(&e))?;
        let envelope = serde_json::to_vec(&upload["envelope"]).map_err(|e| fail(&e))?;
        let simple_signature = b64
            .decode(upload["cosign_signature"].as_str().unwrap_or_default())
            .map_err(|e| fail(&e))?;
        let principal = Principal {
            user_id: db::accounts::user(&st.db.read, user)
                .await?
                .map(|u| u.id)
                .ok_or_else(|| DemoError::Country(format!("user {user} vanished")))?,
            user: user.to_owned(),
            admin: false,
            scopes: vec![Scope::Country {
                action: CountryAction::Approve,
                country: sl,
            }],
            token_prefix: "demo".to_owned(),
            expires_at: None,
        };
        bundles::sign(
            st,
            &principal,
            sl,
            bundles::Signing {
                index: index.clone(),
                envelope,
                simple_signature,
            },
        )
        .await
        .map_err(|e| fail(&e))?;
    }
    tracing::info!(bundle = DEMO_BUNDLE, "demo: bundle signed by amara and kofi");
    Ok(DemoBundle { made: true, ..out })
}

/// The namespace's demo key: read from `DATA/demo-keys/<ns>.key` if a previous run
/// made it, else generated, written (with its `.pub`) and registered.
async fn demo_key(client: &RegistryClient, dir: &Path, ns: &str) -> Result<KeyPair, DemoError> {
    let path = dir.join(format!("{ns}.key"));
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Ok(KeyPair::from_encrypted_pem(&pem, DEMO_KEY_PASSWORD.as_bytes())?);
    }
    let key = KeyPair::generate()?;
    let write = |p: PathBuf, text: String| {
        govstore_client::config::write_private(&p, text.as_bytes())
            .map_err(|source| DemoError::WriteKey { path: p, source })
    };
    write(path, key.to_encrypted_pem(DEMO_KEY_PASSWORD.as_bytes())?)?;
    write(dir.join(format!("{ns}.pub")), key.public_key().to_pem())?;
    client
        .register_key(ns, &key.public_key().to_pem(), Some("demo"))
        .await?;
    Ok(key)
}

/// The demo country, Sierra Leone (`SL`): threshold 2; approvers amara
/// ([`DEMO_WEB_USER`]), kofi and fatmata, each with a registered key of their own
/// (`DATA/demo-keys/sl-<user>.key`); a reviewer, musa; a server-held approver key
/// (`DATA/demo-keys/sl-server.key`, registered and held by this server, so approvers
/// can sign in the web workspace). Approvals of 2 of 3 on mosip/esignet 1.8.0 and
/// x-road/security-server 7.8.0, an approval of mosip/esignet 1.7.1 revoked with a
/// reason, and two open proposals (opencrvs/opencrvs-core 2.0.0, recommended by musa,
/// and openimis/openimis 24.4.0). Every member signs in with the password of
/// [`DEMO_WEB_USER`] printed at start. Statements and keys go through the registry's API
/// (`govstore_client`), proposals and recommendations through `service::reviews`. On a
/// data directory that has the country already, only the server-held key is loaded and
/// the passwords are set again.
async fn demo_country(st: &AppState, base_url: &str, keys_dir: &Path, password: &str) -> Result<(), DemoError> {
    use govstore_core::approval::{Decision, Predicate, Statement};
    use govstore_core::manifest::values::CountryCode;
    use govstore_core::scope::{CountryAction, Scope};
    use govstore_signing::dsse::Envelope;

    use crate::service::{Principal, countries, reviews};

    let fail = |e: &dyn std::fmt::Display| DemoError::Country(e.to_string());
    let sl: CountryCode = "SL".parse().map_err(|e| fail(&e))?;
    let approvers = [DEMO_WEB_USER, "kofi", "fatmata"];
    let reviewer = "musa";
    for user in approvers.iter().chain([&reviewer]) {
        if db::accounts::user(&st.db.read, user).await?.is_none() {
            admin::create_user(&st.db, user, false).await?;
        }
        admin::set_password(&st.db, user, password).await?;
    }
    let server_key_path = keys_dir.join("sl-server.key");
    let existed = db::countries::by_code(&st.db.read, sl.as_str()).await?.is_some();
    if existed {
        let pem = std::fs::read_to_string(&server_key_path).map_err(|source| DemoError::WriteKey {
            path: server_key_path.clone(),
            source,
        })?;
        st.server_keys
            .insert(sl, KeyPair::from_encrypted_pem(&pem, DEMO_KEY_PASSWORD.as_bytes())?);
        return Ok(());
    }
    countries::create(&st.db, sl, DEMO_USER, 2, None).await?;
    for user in approvers {
        countries::add_member_as_operator(&st.db, sl, user, "approver").await?;
    }
    countries::add_member_as_operator(&st.db, sl, reviewer, "reviewer").await?;

    let write = |p: PathBuf, text: String| {
        govstore_client::config::write_private(&p, text.as_bytes())
            .map_err(|source| DemoError::WriteKey { path: p, source })
    };
    // Each approver's own key, registered by the approver (its holder), and a client
    // acting as that approver.
    let mut signers = Vec::new();
    for user in approvers {
        let token =
            admin::create_token(&st.db, user, "demo", &["keys:sl".into(), "approve:SL".into()], Some(1)).await?;
        let client = RegistryClient::new(base_url, Some(token))?;
        let key = KeyPair::generate()?;
        write(
            keys_dir.join(format!("sl-{user}.key")),
            key.to_encrypted_pem(DEMO_KEY_PASSWORD.as_bytes())?,
        )?;
        client
            .register_key("sl", &key.public_key().to_pem(), Some(&format!("{user}'s laptop")))
            .await?;
        signers.push((user, client, key));
    }
    // The key this server holds for SL.
    let server_key = KeyPair::generate()?;
    write(
        server_key_path,
        server_key.to_encrypted_pem(DEMO_KEY_PASSWORD.as_bytes())?,
    )?;
    signers[0]
        .1
        .register_key("sl", &server_key.public_key().to_pem(), Some("held by the registry"))
        .await?;
    st.server_keys.insert(sl, server_key);

    let version_of = |name: &'static str, version: &'static str| async move {
        let pkg = db::packages::find(&st.db.read, name)
            .await?
            .ok_or_else(|| DemoError::Country(format!("{name} is not in the demo catalogue")))?;
        let v = db::packages::version(&st.db.read, pkg.id, version)
            .await?
            .ok_or_else(|| DemoError::Country(format!("{name}@{version} is not in the demo catalogue")))?;
        Ok::<_, DemoError>((name, version, v.manifest_digest))
    };
    let sign = |signer: usize, target: &(&str, &str, String), decision: Decision, reason: Option<&str>| {
        let (user, client, key) = &signers[signer];
        let statement = Statement::new(
            target.0.parse().map_err(|e| fail(&e))?,
            target.1.parse().map_err(|e| fail(&e))?,
            target.2.parse().map_err(|e| fail(&e))?,
            Predicate {
                country: sl,
                decision,
                conditions: Default::default(),
                valid_until: None,
                reason: reason.map(str::to_owned),
                recommendation: None,
                approver: Some((*user).to_owned()),
                signed_at: govstore_core::time::rfc3339(crate::now_ms() / 1000),
            },
        );
        let env = Envelope::sign(key, govstore_core::approval::PAYLOAD_TYPE, statement.to_json())?;
        let json: serde_json::Value = serde_json::from_slice(&env.to_json()).map_err(|e| fail(&e))?;
        Ok::<_, DemoError>((client, json))
    };
    let esignet = version_of("mosip/esignet", "1.8.0").await?;
    let esignet_old = version_of("mosip/esignet", "1.7.1").await?;
    let xroad = version_of("x-road/security-server", "7.8.0").await?;
    for (signer, target, decision, reason) in [
        (0, &esignet, Decision::Approved, None),
        (1, &esignet, Decision::Approved, None),
        (1, &xroad, Decision::Approved, None),
        (2, &xroad, Decision::Approved, None),
        (0, &esignet_old, Decision::Approved, None),
        (2, &esignet_old, Decision::Approved, None),
        (
            2,
            &esignet_old,
            Decision::Revoked,
            Some("Superseded by 1.8.0, which fixes the token validation flaw found in the ministry's audit."),
        ),
    ] {
        let (client, envelope) = sign(signer, target, decision, reason)?;
        client.submit_approval(sl.as_str(), &envelope).await?;
    }

    let user_id = |name: &str| {
        let name = name.to_owned();
        async move {
            db::accounts::user(&st.db.read, &name)
                .await?
                .map(|u| u.id)
                .ok_or_else(|| DemoError::Country(format!("user {name} vanished")))
        }
    };
    let musa = Principal {
        user_id: user_id(reviewer).await?,
        user: reviewer.to_owned(),
        admin: false,
        scopes: vec![Scope::Country {
            action: CountryAction::Review,
            country: sl,
        }],
        token_prefix: "demo".to_owned(),
        expires_at: None,
    };
    for (name, version, note) in [
        (
            "opencrvs/opencrvs-core",
            "2.0.0",
            "Civil registration for the 2027 rollout.",
        ),
        (
            "openimis/openimis",
            "24.4.0",
            "Health insurance pilot in two districts.",
        ),
    ] {
        let (p, _) = reviews::propose(
            st,
            &musa,
            sl,
            &name.parse().map_err(|e| fail(&e))?,
            &version.parse().map_err(|e| fail(&e))?,
            Some(note),
        )
        .await
        .map_err(|e| fail(&e))?;
        if name.starts_with("opencrvs") {
            reviews::recommend(
                st,
                &musa,
                sl,
                p.id,
                "approve",
                Some("Licence, claims and requirements checked."),
            )
            .await
            .map_err(|e| fail(&e))?;
        }
    }
    tracing::info!("demo: country SL with approvals, a revocation and two proposals");
    Ok(())
}
