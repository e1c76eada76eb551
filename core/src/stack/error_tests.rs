//! Refused stack profiles: each error names its field, line and column, with a hint
//! where there is a next step.

#![allow(clippy::unwrap_used)]

use super::Stack;

/// Every error of `text`, one per line, with its hint.
fn errors(text: &str) -> String {
    let err = Stack::from_toml_str(text).unwrap_err();
    let fields = err.field_errors();
    if fields.is_empty() {
        return err.to_string();
    }
    fields
        .iter()
        .map(|e| match &e.hint {
            Some(hint) => format!("{e}\n  hint: {hint}"),
            None => e.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const HEAD: &str = "[stack]\ncountry = \"KE\"\nname = \"Test\"\n";

#[test]
fn country_codes_are_checked() {
    assert_eq!(
        errors("[stack]\ncountry = \"ke\"\nname = \"x\"\n"),
        "stack.country: \"ke\" is not an ISO 3166-1 alpha-2 country code: codes are uppercase, write \"KE\" (line 2, column 11)"
    );
}

#[test]
fn unknown_and_misplaced_fields() {
    assert_eq!(
        errors(&format!("{HEAD}[infrastructure]\npostgresql = \"16\"\n")),
        "infrastructure: unknown field `postgresql`, expected `orchestrator` or `platform` (line 5, column 1)\n  \
         hint: platform components go under `[infrastructure.platform]`: `postgresql = \"1.2.3\"`"
    );
    assert_eq!(
        errors(&format!("{HEAD}[wants]\ndeny_licenses = [\"MIT\"]\n")),
        "wants: unknown field `deny_licenses`, expected one of `specs`, `packages`, `pins`, `excludes` (line 5, column 1)\n  \
         hint: `deny_licenses` belongs in the `[policy]` table"
    );
    assert_eq!(
        errors(&format!("{HEAD}[wants]\nexclude = [\"a/b\"]\n")),
        "wants: unknown field `exclude`, expected one of `specs`, `packages`, `pins`, `excludes` (line 5, column 1)\n  \
         hint: did you mean `excludes`?"
    );
    assert!(errors(&format!("{HEAD}[existing]\nname = \"x\"\n")).contains("write `[[existing]]` with two brackets"));
}

#[test]
fn values_are_checked() {
    let e = errors(&format!("{HEAD}[policy]\ndeny_licenses = [\"GPL-3.0\"]\n"));
    assert!(
        e.starts_with("policy.deny_licenses[0]: \"GPL-3.0\" is not an SPDX licence identifier"),
        "{e}"
    );
    let e = errors(&format!("{HEAD}[infrastructure.platform]\nkubernetes = \"v1.29\"\n"));
    assert!(
        e.starts_with("infrastructure.platform.kubernetes: invalid platform version \"v1.29\""),
        "{e}"
    );
    let e = errors(&format!(
        "{HEAD}[wants]\npackages = {{ \"x-road/security-server\" = \">=7.5 <<8\" }}\n"
    ));
    assert!(
        e.starts_with("wants.packages.\"x-road/security-server\": invalid version requirement"),
        "{e}"
    );
    let e = errors(&format!("{HEAD}[policy]\ntrusted_publishers = [\"Mosip\"]\n"));
    assert!(
        e.starts_with("policy.trusted_publishers[0]: invalid publisher namespace"),
        "{e}"
    );
}

#[test]
fn rules_across_fields_report_every_problem() {
    let text = format!(
        "{HEAD}\
[[existing]]
name = \"Bad Name\"
version = \"1.0.0\"

[[existing]]
name = \"idle\"

[infrastructure]
orchestrator = \"kubernetes\"

[policy]
allow_licenses = [\"MIT\", \"GPL-3.0-only\"]
deny_licenses = [\"MIT\"]
deny_copyleft = true

[wants]
packages = {{ \"mosip/esignet\" = \">=1.7\" }}
pins = {{ \"mosip/esignet\" = \"1.6.0\" }}
excludes = [\"mosip/esignet\"]
"
    );
    let e = errors(&text);
    let lines: Vec<&str> = e.lines().filter(|l| !l.starts_with("  hint")).collect();
    assert_eq!(
        lines,
        [
            "existing[0].name: \"Bad Name\": use lowercase letters, digits and `-` (line 5, column 8)",
            "existing[0].version: a version needs `package` (line 6, column 11)",
            "existing[1]: existing system `idle` says nothing the resolver can use (line 8, column 1)",
            "infrastructure.orchestrator: the orchestrator is kubernetes but `platform` gives no kubernetes version (line 12, column 16)",
            "policy.allow_licenses[0]: MIT is both allowed and denied (line 15, column 19)",
            "policy.allow_licenses[1]: GPL-3.0-only is a copyleft licence, which `deny_copyleft` denies (line 15, column 26)",
            "wants.pins.\"mosip/esignet\": mosip/esignet is both pinned and excluded (line 21, column 28)",
            "wants.pins.\"mosip/esignet\": the pin 1.6.0 does not match `wants.packages` >=1.7 (line 21, column 28)",
            "wants.excludes[0]: mosip/esignet is both wanted (`wants.packages`) and excluded (line 22, column 13)",
        ],
        "{e}"
    );
}

#[test]
fn vm_stacks_do_not_list_kubernetes() {
    let e = errors(&format!(
        "{HEAD}[infrastructure]\norchestrator = \"vm\"\n[infrastructure.platform]\nkubernetes = \"1.29\"\n"
    ));
    assert_eq!(
        e,
        "infrastructure.platform.kubernetes: the orchestrator is vm, which does not run Kubernetes (line 7, column 14)"
    );
}

#[test]
fn too_large_and_not_toml() {
    let big = format!("{HEAD}# {}\n", "x".repeat(super::limits::MAX_STACK_BYTES));
    assert!(errors(&big).starts_with("the stack profile is "));
    assert!(errors("[stack\n").starts_with("invalid TOML at line 1"));
}
