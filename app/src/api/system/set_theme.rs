use leptos::prelude::*;

use crate::AppError;

/// Remembers the theme in a cookie, so the server renders the right one on
/// the next visit, with or without JavaScript.
#[server(prefix = "/api", endpoint = "set_theme")]
pub async fn set_theme(theme: String) -> Result<String, AppError> {
    let theme = crate::wire::Theme::parse(&theme)
        .ok_or_else(|| AppError::BadRequest("Unknown theme.".into()))?;
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Strict",
        crate::wire::Theme::COOKIE,
        theme.as_str()
    );
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
    Ok(theme.as_str().to_owned())
}
