//! The auditor's CLI against a data directory a real server wrote.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::spawn_app;

fn convene(args: &[&str]) -> std::process::Output {
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
    // register: email claim + account + key; meeting: created + activated + ended
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        "verified 6 events: hash chain intact"
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
    let by_seq = convene(&["audit", "meeting", &id, "--data", &data, "--seq", "4"]);
    let report: Value = serde_json::from_slice(&by_seq.stdout).unwrap();
    assert_eq!(report["state"]["status"], "scheduled");

    let bad = convene(&["audit", "meeting", "not-an-id", "--data", &data]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("meeting id must look like"));
}
