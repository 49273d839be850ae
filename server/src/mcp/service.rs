//! The MCP service as the app sees it: settings, discovery, and the calls
//! the engineer makes by hand, over [`McpManager`] and [`ToolCalls`].

use std::sync::Arc;

use tftsr_app::AppError;
use tftsr_app::services::McpService;
use tftsr_app::wire::McpServerDetails;
use tftsr_core::ai::BoxFuture;
use tftsr_core::mcp::{
    McpCall, McpCallOrigin, McpCallStatus, McpServerDraft, McpServerId, McpServerSettings,
};
use tftsr_core::{IssueId, StoreErrorKind};

use super::{
    CallStoreError, DecideError, McpError, McpErrorKind, McpManager, SaveError, ToolCallRequest,
    ToolCalls,
};

impl From<McpError> for AppError {
    fn from(e: McpError) -> Self {
        match e.kind() {
            McpErrorKind::NotAvailable => AppError::NotFound(e.message().to_owned()),
            _ => AppError::Unavailable(e.message().to_owned()),
        }
    }
}

impl From<CallStoreError> for AppError {
    fn from(e: CallStoreError) -> Self {
        AppError::from(e.0)
    }
}

impl From<DecideError> for AppError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::NotFound => AppError::NotFound(e.to_string()),
            DecideError::NotWaiting => AppError::Conflict(e.to_string()),
            DecideError::Store(s) => AppError::from(s),
        }
    }
}

impl From<SaveError> for AppError {
    fn from(e: SaveError) -> Self {
        match e {
            SaveError::Invalid(fields) => AppError::Invalid(
                fields
                    .into_iter()
                    .map(|(field, message)| tftsr_app::error::FieldError {
                        field: field.to_owned(),
                        message,
                    })
                    .collect(),
            ),
            SaveError::Mcp(e) if e.kind() == McpErrorKind::Store => {
                AppError::Conflict(e.message().to_owned())
            }
            SaveError::Mcp(e) => AppError::from(e),
        }
    }
}

/// [`McpService`] over the manager and the call runner.
#[derive(Clone)]
pub struct McpPanel {
    calls: Arc<ToolCalls>,
}

impl McpPanel {
    pub fn new(calls: Arc<ToolCalls>) -> Self {
        Self { calls }
    }

    fn manager(&self) -> &Arc<McpManager> {
        self.calls.manager()
    }

    async fn details(&self, settings: McpServerSettings) -> Result<McpServerDetails, AppError> {
        let tools = self.manager().tools(settings.id).await?;
        let resources = self.manager().resources(settings.id).await?;
        Ok(McpServerDetails {
            settings,
            tools,
            resources,
        })
    }

    /// Discovers a server in the background (after a save or an enable):
    /// the page polls its status.
    fn discover_later(&self, id: McpServerId) {
        let manager = Arc::clone(self.manager());
        tokio::spawn(async move {
            if let Err(e) = manager.discover(id).await {
                tracing::warn!(server = %id, error = %e, "MCP discovery failed");
            }
        });
    }
}

impl McpService for McpPanel {
    fn servers(&self) -> BoxFuture<'_, Result<Vec<McpServerSettings>, AppError>> {
        Box::pin(async move { Ok(self.manager().servers().await?) })
    }

    fn server(&self, id: McpServerId) -> BoxFuture<'_, Result<McpServerDetails, AppError>> {
        Box::pin(async move {
            let settings = self.manager().server(id).await?;
            self.details(settings).await
        })
    }

    fn save(
        &self,
        id: Option<McpServerId>,
        draft: McpServerDraft,
    ) -> BoxFuture<'_, Result<McpServerSettings, AppError>> {
        Box::pin(async move {
            let saved = self.manager().save(id, &draft).await.map_err(|e| match e {
                // A name clash is the store's conflict, shown by the field.
                SaveError::Mcp(e) if e.kind() == McpErrorKind::Store => {
                    AppError::Invalid(vec![tftsr_app::error::FieldError {
                        field: "name".to_owned(),
                        message: e.message().to_owned(),
                    }])
                }
                other => AppError::from(other),
            })?;
            if saved.enabled {
                self.discover_later(saved.id);
            }
            Ok(saved)
        })
    }

    fn set_enabled(
        &self,
        id: McpServerId,
        enabled: bool,
    ) -> BoxFuture<'_, Result<McpServerSettings, AppError>> {
        Box::pin(async move {
            self.manager().set_enabled(id, enabled).await?;
            if enabled {
                self.discover_later(id);
            }
            Ok(self.manager().server(id).await?)
        })
    }

    fn delete(&self, id: McpServerId) -> BoxFuture<'_, Result<(), AppError>> {
        Box::pin(async move { Ok(self.manager().delete(id).await?) })
    }

    fn discover(&self, id: McpServerId) -> BoxFuture<'_, Result<McpServerSettings, AppError>> {
        Box::pin(async move { Ok(self.manager().discover(id).await?) })
    }

    fn toolbox(&self) -> BoxFuture<'_, Result<Vec<McpServerDetails>, AppError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for settings in self.manager().servers().await? {
                if settings.enabled
                    && settings.status == tftsr_core::mcp::DiscoveryStatus::Connected
                {
                    out.push(self.details(settings).await?);
                }
            }
            Ok(out)
        })
    }

    fn run_tool(
        &self,
        issue: IssueId,
        tool_key: String,
        submitted: Vec<(String, String)>,
    ) -> BoxFuture<'_, Result<McpCall, AppError>> {
        Box::pin(async move {
            let tool = self.manager().tool_by_key(&tool_key).await.map_err(|_| {
                AppError::NotFound(
                    "That tool is not available (any more); discover its server again.".to_owned(),
                )
            })?;
            let arguments = tftsr_core::mcp::ToolForm::from_schema(&tool.input_schema)
                .values(&submitted)
                .map_err(|errors| {
                    AppError::Invalid(
                        errors
                            .into_iter()
                            .map(|(field, message)| tftsr_app::error::FieldError { field, message })
                            .collect(),
                    )
                })?;
            let row = self
                .calls
                .run_tool(ToolCallRequest {
                    issue,
                    conversation_id: None,
                    provider_call_id: String::new(),
                    origin: McpCallOrigin::User,
                    tool,
                    arguments,
                })
                .await?;
            Ok(row.call)
        })
    }

    fn read_resource(
        &self,
        issue: IssueId,
        server: McpServerId,
        uri: String,
    ) -> BoxFuture<'_, Result<McpCall, AppError>> {
        Box::pin(async move {
            let known = self
                .manager()
                .resources(server)
                .await?
                .into_iter()
                .any(|r| r.uri == uri);
            if !known {
                return Err(AppError::NotFound(
                    "That resource is not in the server's last discovery.".to_owned(),
                ));
            }
            Ok(self.calls.read_resource(issue, server, uri).await?.call)
        })
    }

    fn decide(&self, issue: IssueId, call: String, run: bool) -> Result<(), AppError> {
        Ok(self.calls.decide(issue, &call, run)?)
    }

    fn evidence(&self, issue: IssueId, call: String) -> Result<String, AppError> {
        let row = self.calls.db().mcp_call(&call).map_err(|e| {
            if e.kind() == StoreErrorKind::NotFound {
                AppError::NotFound("That call is not part of this issue.".to_owned())
            } else {
                AppError::from(e)
            }
        })?;
        if row.issue != issue {
            return Err(AppError::NotFound(
                "That call is not part of this issue.".to_owned(),
            ));
        }
        if row.call.status != McpCallStatus::Done {
            return Err(AppError::Conflict(
                "Only a call that returned a result can be attached.".to_owned(),
            ));
        }
        Ok(row.call.evidence_message())
    }
}
