//! Form fields with labels and inline errors. Inputs are uncontrolled, so what the
//! user typed stays in place when the server rejects it (console).

use crate::model::AppError;
use leptos::prelude::*;

/// The error of the last submission, if any.
pub type LastError = Signal<Option<AppError>>;

/// The failure of an action's last run, as a signal for the form to show.
pub fn last_error<I, T>(action: ServerAction<I>) -> LastError
where
    I: leptos::server_fn::ServerFn<Output = T, Error = AppError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(|r: Result<T, AppError>| r.err())
    })
}

/// A labelled input whose error message comes from the server's field errors.
#[component]
pub fn Field(
    /// Form name, to keep element ids unique on pages with several forms.
    form: &'static str,
    name: &'static str,
    label: &'static str,
    error: LastError,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] required: bool,
    /// The initial value (the current one, on edit forms).
    #[prop(optional, into)]
    value: String,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let err_id = format!("{id}-error");
    let message = move || error.get().and_then(|e| e.field_message(name));
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                value=value
                aria-invalid=move || message().is_some().to_string()
                aria-describedby=err_id.clone()
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=err_id>
                {message}
            </p>
        </div>
    }
}

/// A select over fixed options, with the same error handling as [`Field`].
#[component]
pub fn SelectField(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    error: LastError,
    options: Vec<(String, String)>,
    #[prop(optional)] selected: String,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let err_id = format!("{id}-error");
    let message = move || error.get().and_then(|e| e.field_message(name));
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <select id=id name=name aria-describedby=err_id.clone()>
                {options
                    .into_iter()
                    .map(|(value, text)| {
                        let is_selected = value == selected;
                        view! {
                            <option value=value selected=is_selected>
                                {text}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <p class="field-error" id=err_id>
                {message}
            </p>
        </div>
    }
}

/// The message for errors that belong to no single field.
#[component]
pub fn FormError(error: LastError) -> impl IntoView {
    let general = move || {
        error.get().and_then(|e| match &e {
            AppError::Validation { .. } => None,
            AppError::Conflict { field: Some(_), .. } => None,
            other => Some(other.to_string()),
        })
    };
    // After a refusal, focus goes to the first field it names (or the form's
    // first field), so that keyboard and screen-reader users land on what to fix.
    let anchor = NodeRef::<leptos::html::Span>::new();
    Effect::new(move |_| {
        if error.get().is_none() {
            return;
        }
        let Some(form) = anchor.get().and_then(|a| a.closest("form").ok().flatten()) else {
            return;
        };
        let first = |selector: &str| form.query_selector(selector).ok().flatten();
        if let Some(field) = first("[aria-invalid='true']")
            .or_else(|| first("input:not([type=hidden]), select, textarea"))
            .and_then(|el| {
                use leptos::wasm_bindgen::JsCast;
                el.dyn_into::<web_sys::HtmlElement>().ok()
            })
        {
            let _ = field.focus();
        }
    });
    view! {
        <span node_ref=anchor hidden=true></span>
        <Show when=move || general().is_some()>
            <p class="form-error" role="alert">
                {general}
            </p>
        </Show>
    }
}
