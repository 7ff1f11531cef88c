//! OpenSLO (`openslo/v1`, kind `SLO` with an inline ratio SLI) for portability:
//! export any SLO, import one defined elsewhere. The metric source is Steward's
//! own (`type: steward`): the gateway's counts for an API (control plane).

use serde_json::{Value, json};
use steward_model::{AppError, Checks, FieldError, NewSlo, SloKind, SloView};

/// A DNS-label-ish name, as OpenSLO's `metadata.name` wants.
fn label(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').chars().take(63).collect()
}

pub fn export(slo: &SloView) -> Value {
    let kind = match slo.kind {
        SloKind::Availability => "availability",
        SloKind::Latency => "latency",
    };
    let mut source = json!({ "api": slo.api_slug, "kind": kind });
    if let Some(t) = slo.threshold_ms {
        source["threshold_ms"] = json!(t);
    }
    if let Some(op) = &slo.operation {
        source["operation"] = json!(op);
    }
    let name = label(&format!("{}-{}", slo.api_slug, slo.name));
    json!({
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": { "name": name, "displayName": slo.name },
        "spec": {
            "description": slo.description,
            "service": slo.api_slug,
            "indicator": {
                "metadata": { "name": format!("{name}-sli") },
                "spec": {
                    "ratioMetric": {
                        "counter": true,
                        "good": { "metricSource": { "type": "steward", "spec": source.clone() } },
                        "total": { "metricSource": { "type": "steward", "spec": { "api": slo.api_slug } } }
                    }
                }
            },
            "timeWindow": [{ "duration": format!("{}d", slo.window_days), "isRolling": true }],
            "budgetingMethod": "Occurrences",
            "objectives": [{ "displayName": slo.name, "target": slo.target / 100.0 }]
        }
    })
}

fn invalid(field: &str, message: &str) -> AppError {
    AppError::Validation {
        fields: vec![FieldError::new(field, message)],
    }
}

/// Reads an OpenSLO document (YAML or JSON) into an SLO definition.
pub fn import(text: &str) -> Result<NewSlo, AppError> {
    steward_contracts::yaml::check(text).map_err(|e| invalid("document", &e.to_string()))?;
    let doc: Value = serde_yaml::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
            .unwrap_or_default();
        invalid("document", &format!("not valid YAML{at}: {e}"))
    })?;
    let s = |p: &str| doc.pointer(p).and_then(Value::as_str);
    let mut checks = Checks::new();
    checks
        .check(
            s("/apiVersion") == Some("openslo/v1"),
            "apiVersion",
            "expected openslo/v1",
        )
        .check(
            s("/kind") == Some("SLO"),
            "kind",
            "expected an SLO document",
        );
    checks.finish()?;
    let source = doc
        .pointer("/spec/indicator/spec/ratioMetric/good/metricSource/spec")
        .cloned()
        .unwrap_or(Value::Null);
    let api = source
        .get("api")
        .and_then(Value::as_str)
        .or_else(|| s("/spec/service"))
        .ok_or_else(|| invalid("spec.service", "name the API (its slug)"))?;
    let kind = match source
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("availability")
    {
        "latency" => SloKind::Latency,
        "availability" => SloKind::Availability,
        _ => {
            return Err(invalid(
                "spec.indicator",
                "the metric kind must be availability or latency",
            ));
        }
    };
    let window_days = s("/spec/timeWindow/0/duration")
        .and_then(|d| d.strip_suffix('d'))
        .and_then(|d| d.parse::<i32>().ok())
        .ok_or_else(|| invalid("spec.timeWindow", "use a rolling window in days, e.g. 28d"))?;
    let target = doc
        .pointer("/spec/objectives/0/target")
        .and_then(Value::as_f64)
        .ok_or_else(|| invalid("spec.objectives", "give the objective's target, e.g. 0.999"))?;
    let name = s("/metadata/displayName")
        .or_else(|| s("/metadata/name"))
        .ok_or_else(|| invalid("metadata.name", "name the SLO"))?;
    Ok(NewSlo {
        api: api.to_string(),
        name: name.to_string(),
        description: s("/spec/description").unwrap_or_default().to_string(),
        kind,
        target: target * 100.0,
        window_days,
        threshold_ms: source
            .get("threshold_ms")
            .and_then(Value::as_i64)
            .map(|t| t as i32),
        version_id: None,
        operation: source
            .get("operation")
            .and_then(Value::as_str)
            .map(str::to_string),
        application_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_labels() {
        assert_eq!(
            label("Orders / Order acceptance (fast)"),
            "orders-order-acceptance-fast"
        );
    }

    #[test]
    fn bad_documents_say_what_is_wrong() {
        assert!(matches!(
            import("apiVersion: openslo/v1\nkind: Service\n"),
            Err(AppError::Validation { .. })
        ));
        let err = import("a: [").expect_err("syntax");
        assert!(err.to_string().contains("line"), "{err}");
    }
}
