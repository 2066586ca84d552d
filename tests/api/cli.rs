//! The auditor's CLI against a data directory a real server wrote.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::spawn_app;

pub(crate) fn convene(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_convene"))
        .args(args)
        .env_remove("CONVENE_CONFIG")
        .output()
        .expect("run convene")
}

#[tokio::test]
async fn audit_verify_and_meeting_replay() {
    let mut app = spawn_app().await;
    let key = app.register("auditor@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Audited"})).await;
    let id = meeting["meetingId"].as_str().unwrap().to_owned();
    app.clock.advance(60_000);
    let response = app
        .delete(
            &format!("/api/meetings/{id}"),
            &key,
            meeting["adminToken"].as_str(),
        )
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let data = app.data_dir().to_str().unwrap().to_owned();

    // While the server holds the directory, the CLI says so instead of panicking.
    let busy = convene(&["audit", "verify", "--data", &data]);
    assert!(!busy.status.success());
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(
        stderr.contains("in use by another Convene process"),
        "{stderr}"
    );

    app.shutdown().await;
    let ok = convene(&["audit", "verify", "--data", &data]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // register: email claim + account + key + plan + signup credit; meeting: created + activated
    // + ended
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        "verified 8 events: hash chain intact"
    );

    let full = convene(&["audit", "meeting", &id, "--data", &data]);
    assert!(
        full.status.success(),
        "{}",
        String::from_utf8_lossy(&full.stderr)
    );
    let report: Value = serde_json::from_slice(&full.stdout).unwrap();
    let kinds: Vec<&str> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["meeting.created", "meeting.activated", "meeting.ended"]
    );
    assert_eq!(report["events"][0]["data"]["title"], "Audited");
    assert_eq!(report["events"][2]["actor"]["type"], "api_key");
    assert_eq!(report["state"]["status"], "ended");

    // The same meeting as it was before it ended, by time and by sequence.
    let at = convene(&[
        "audit",
        "meeting",
        &id,
        "--data",
        &data,
        "--at",
        "2026-03-01T12:00:30Z",
    ]);
    let report: Value = serde_json::from_slice(&at.stdout).unwrap();
    assert_eq!(report["state"]["status"], "active");
    assert_eq!(report["events"].as_array().unwrap().len(), 2);
    // Seq 6 is the meeting's creation (the registration wrote 1 to 5).
    let by_seq = convene(&["audit", "meeting", &id, "--data", &data, "--seq", "6"]);
    let report: Value = serde_json::from_slice(&by_seq.stdout).unwrap();
    assert_eq!(report["state"]["status"], "scheduled");

    let bad = convene(&["audit", "meeting", "not-an-id", "--data", &data]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("meeting id must look like"));
}

#[tokio::test]
async fn an_export_is_signed_and_a_changed_one_does_not_check() {
    let mut app = spawn_app().await;
    let key = app.register("exporter@example.com").await;
    let meeting = app
        .create_meeting(&key, &json!({"title": "Exported"}))
        .await;
    let id = meeting["meetingId"].as_str().unwrap().to_owned();
    app.shutdown().await;
    let data = app.data_dir().to_str().unwrap().to_owned();
    let out = app.data_dir().join("export.json");
    let out_path = out.to_str().unwrap();

    let exported = convene(&["audit", "export", &id, "--out", out_path, "--data", &data]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(file["export"]["meetingId"], id.as_str());
    assert_eq!(file["export"]["events"].as_array().unwrap().len(), 2);
    assert_eq!(file["hmacSha256"].as_str().unwrap().len(), 64);

    let checked = convene(&["audit", "check", out_path, "--data", &data]);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(String::from_utf8_lossy(&checked.stdout).starts_with("intact: 2 events"));

    // One changed letter in an event, and the export no longer checks.
    let mut changed = file.clone();
    changed["export"]["events"][0]["data"]["title"] = json!("Exported!");
    std::fs::write(&out, changed.to_string()).unwrap();
    let refused = convene(&["audit", "check", out_path, "--data", &data]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not verify"));

    // The original, checked with another server's key, does not either.
    std::fs::write(&out, file.to_string()).unwrap();
    let elsewhere = Command::new(env!("CARGO_BIN_EXE_convene"))
        .args(["audit", "check", out_path, "--data", &data])
        .env_remove("CONVENE_CONFIG")
        .env("CONVENE_AUDIT_KEY", "another-servers-key")
        .output()
        .unwrap();
    assert!(!elsewhere.status.success());
}

#[tokio::test]
async fn rebuilt_projections_equal_the_live_ones() {
    let mut app = spawn_app().await;
    let key = app.register("rebuild@example.com").await;
    let meeting = app.create_meeting(&key, &json!({"title": "Rebuilt"})).await;
    let id = meeting["meetingId"].as_str().unwrap();
    app.clock.advance(60_000);
    app.delete(
        &format!("/api/meetings/{id}"),
        &key,
        meeting["adminToken"].as_str(),
    )
    .await;
    app.shutdown().await;
    let data = app.data_dir().to_str().unwrap().to_owned();

    let all = convene(&["projections", "rebuild", "--data", &data]);
    let stdout = String::from_utf8_lossy(&all.stdout);
    assert!(
        all.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&all.stderr)
    );
    for name in [
        "meeting_directory",
        "accounts_directory",
        "time_index",
        "history",
        "event_feed",
        "webhooks",
        "ledger",
        "analytics_errors",
        "analytics_usage",
    ] {
        assert!(
            stdout.contains(&format!(
                "{name}: 8 events folded, equal to the live read model"
            )),
            "{stdout}"
        );
    }
    let one = convene(&[
        "projections",
        "rebuild",
        "--name",
        "history",
        "--data",
        &data,
    ]);
    assert!(one.status.success());
    assert_eq!(String::from_utf8_lossy(&one.stdout).lines().count(), 1);
    let unknown = convene(&["projections", "rebuild", "--name", "nope", "--data", &data]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no projection named nope"));
}
