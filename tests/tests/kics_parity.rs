//! Parity with KICS's docker-compose query fixtures
//! (`../shared/corpus/peers/kics/dockerCompose`): for every query that maps to
//! a policy of ours, positives must be flagged by that policy and negatives
//! must be clean. Known, argued disagreements are listed in
//! `docs/kics-parity.md` and in `KNOWN` below; the test fails when the set of
//! disagreements changes in either direction.

use std::collections::BTreeSet;

use rampart_tests::{findings, json, rampart, shared_or_skip};

/// KICS query folder → (our policy, a word our message must contain for the
/// finding to count as the same issue — for policies that cover several KICS queries).
const MAP: &[(&str, &str, &str)] = &[
    ("cgroup_not_default", "compose.cgroup-parent-default", ""),
    (
        "container_capabilities_unrestricted",
        "compose.cap-drop-all|compose.cap-add-allowlist",
        "",
    ),
    (
        "container_traffic_not_bound_to_host_interface",
        "compose.ports-host-ip-explicit",
        "",
    ),
    ("cpus_not_limited", "compose.resource-limits", "CPU"),
    ("memory_not_limited", "compose.resource-limits", "memory"),
    ("pids_limit_not_set", "compose.resource-limits", "PID"),
    (
        "default_seccomp_profile_disabled",
        "compose.seccomp-not-disabled",
        "",
    ),
    (
        "docker_socket_mounted_in_container",
        "compose.no-docker-socket",
        "",
    ),
    ("healthcheck_not_set", "compose.healthcheck-defined", ""),
    (
        "host_namespace_is_shared",
        "compose.no-host-namespaces",
        "PID",
    ),
    ("no_new_privileges_not_set", "compose.no-new-privileges", ""),
    ("privileged_containers_enabled", "compose.no-privileged", ""),
    (
        "privileged_ports_mapped_in_container",
        "compose.privileged-ports",
        "",
    ),
    (
        "restart_policy_on_failure_not_set_to_5",
        "compose.restart-policy-bounded",
        "",
    ),
    ("security_opt_not_set", "compose.no-new-privileges", ""),
    (
        "shared_host_ipc_namespace",
        "compose.no-host-namespaces",
        "IPC",
    ),
    (
        "shared_host_network_namespace",
        "compose.no-host-namespaces",
        "network",
    ),
    (
        "shared_host_user_namespace",
        "compose.no-host-namespaces",
        "user",
    ),
    (
        "shared_volumes_between_containers",
        "compose.shared-volumes",
        "",
    ),
    (
        "volume_has_sensitive_host_directory",
        "compose.no-sensitive-host-mounts",
        "",
    ),
];

/// Disagreements we keep on purpose: "query/file: reason" (docs/kics-parity.md).
const KNOWN: &[&str] = &[
    "container_traffic_not_bound_to_host_interface/negative6.yaml: flagged",
    "default_seccomp_profile_disabled/positive1.yaml: missed",
    "privileged_ports_mapped_in_container/positive10.yaml: missed",
    "privileged_ports_mapped_in_container/positive11.yaml: missed",
    "privileged_ports_mapped_in_container/positive12.yaml: missed",
    "privileged_ports_mapped_in_container/positive2.yaml: missed",
    "privileged_ports_mapped_in_container/positive4.yaml: missed",
    "privileged_ports_mapped_in_container/positive5.yaml: missed",
    "privileged_ports_mapped_in_container/positive7.yaml: missed",
    "privileged_ports_mapped_in_container/positive8.yaml: missed",
    "restart_policy_on_failure_not_set_to_5/positive2.yaml: missed",
    "security_opt_not_set/negative1.yaml: flagged",
    "volume_has_sensitive_host_directory/negative2.yaml: flagged",
    "volume_has_sensitive_host_directory/positive1.yaml: missed",
    "volume_has_sensitive_host_directory/positive2.yaml: missed",
    "volume_has_sensitive_host_directory/positive3.yaml: missed",
];

#[test]
fn kics_compose_parity() {
    let Some(shared) = shared_or_skip("kics_compose_parity") else {
        return;
    };
    let root = shared.join("corpus/peers/kics/dockerCompose");
    let mut disagreements = BTreeSet::new();
    let mut agreed = 0;
    for (query, policy, word) in MAP {
        let dir = root.join(query).join("test");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml"))
        {
            let (_, out, _) = rampart(
                &dir,
                &["check", "--profile", "strict", "--format", "json", f],
            );
            let report = json(&out);
            let ours = findings(&report)
                .into_iter()
                .filter(|(p, _, m)| {
                    policy.split('|').any(|x| x == p) && (word.is_empty() || m.contains(word))
                })
                .count();
            let positive = f.starts_with("positive");
            let errors = report["errors"].as_array().map_or(0, Vec::len);
            let ok = errors == 0 && if positive { ours > 0 } else { ours == 0 };
            if ok {
                agreed += 1;
            } else {
                disagreements.insert(format!(
                    "{query}/{f}: {}",
                    if positive { "missed" } else { "flagged" }
                ));
            }
        }
    }
    eprintln!(
        "KICS compose parity: {agreed} files agree, {} disagree",
        disagreements.len()
    );
    for d in &disagreements {
        eprintln!("  {d}");
    }
    let known: BTreeSet<String> = KNOWN
        .iter()
        .map(|k| k.split(": ").take(2).collect::<Vec<_>>().join(": "))
        .collect();
    assert_eq!(
        disagreements, known,
        "disagreements changed; update docs/kics-parity.md and KNOWN"
    );
}
