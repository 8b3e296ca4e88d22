//! Serving the transform on Lambda: the Runtime API loop.
//!
//! Built on `lambda_runtime_api_client`, the Runtime API client that
//! `lambda_runtime` itself uses, rather than on `lambda_runtime::run`: that
//! one deserializes the request body into the handler's type and serializes
//! what the handler returns, which for a 6 MB event is a whole validating
//! parse and a copy on the way in (into a `RawValue`) and another validating
//! parse and copy on the way out (`RawValue::from_string`, then
//! `serde_json::to_vec`), each on top of the engine's own parse and JSON.
//! Here the request body is the event the engine parses, once and in place,
//! and the response the engine writes is the body sent: measured in the
//! README's Performance section.
//!
//! Each invocation: `GET /next` gives the event and its headers (request id,
//! deadline, X-Ray trace id); the handler makes the answer of the body;
//! `POST /response` returns it (or `POST /error` with a diagnostic). Logs
//! inside an invocation carry its `requestId`, as with `lambda_runtime`. The
//! Firehose functions ([`run`](crate::run)) and the Kinesis forwarder serve
//! through it.

use std::collections::VecDeque;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use http::{Method, Request, Response};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use lambda_runtime::tracing::{self, Instrument};
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{build_request, PooledClient};

use crate::telemetry::MetricsConfig;
use crate::transform::Transform;

use super::{log_invocation, MetricsTo, Served};

const API: &str = "/2018-06-01/runtime";
const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
const DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
const TRACE_ID: &str = "lambda-runtime-trace-id";
/// Echoed on the answer so that the Runtime API can refuse a stale one.
const INVOCATION_ID: &str = "lambda-runtime-invocation-id";

/// An invocation's error, as the Runtime API takes it.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Diagnostic {
    pub error_type: &'static str,
    pub error_message: String,
}

/// What a handler makes of one invocation.
pub(crate) struct Answer {
    /// The response body (in pieces, sent one after another), or the error.
    pub body: Result<Vec<bytes::Bytes>, Diagnostic>,
    /// A thread was left inside the transform: end the process once the
    /// answer is sent, so that Lambda starts a clean one for the next.
    pub end_process: bool,
}

/// Serves a Firehose transformation (see [`serve_with`]).
pub(super) fn serve<T: Transform>(
    served: &Served<T>,
    metrics: &MetricsConfig,
    program: &str,
) -> ExitCode {
    serve_with(program, |body, deadline| {
        answer(served, metrics, body, deadline)
    })
}

/// Serves invocations with `handle` (the request body and the deadline in,
/// the answer out) until the Runtime API fails, or until an answer asks for
/// the process to end.
pub(crate) fn serve_with(
    program: &str,
    mut handle: impl FnMut(bytes::Bytes, Option<Instant>) -> Answer,
) -> ExitCode {
    // Warm invocations reuse the last one's buffers only if the allocator
    // keeps them (see `allocator`); a local run has one invocation, where
    // keeping them would only raise the peak.
    super::keep_freed_memory();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{program}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let client = PooledClient::builder().build();
        loop {
            match invocation(&client, &mut handle).await {
                Ok(Next::Continue) => {}
                Ok(Next::Exit) => return ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("{program}: Lambda Runtime API error: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
    })
}

/// What the loop does after an invocation.
enum Next {
    Continue,
    /// A thread was left in the transform: end the process.
    Exit,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Takes the next invocation, answers it.
async fn invocation(
    client: &PooledClient,
    handle: &mut impl FnMut(bytes::Bytes, Option<Instant>) -> Answer,
) -> Result<Next, Error> {
    let next = client
        .call(
            build_request()
                .method(Method::GET)
                .uri(format!("{API}/invocation/next"))
                .body(Body::empty())?,
        )
        .await?;
    let (parts, body) = next.into_parts();
    if !parts.status.is_success() {
        return Err(format!("GET /invocation/next answered {}", parts.status).into());
    }
    let body = body.collect().await?.to_bytes();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let request_id = header(REQUEST_ID)
        .ok_or("the next invocation has no request id")?
        .to_string();
    let invocation_id = header(INVOCATION_ID).map(str::to_string);
    let deadline = header(DEADLINE_MS)
        .and_then(|ms| ms.parse::<u64>().ok())
        .and_then(deadline_from_epoch_ms);
    let trace_id = header(TRACE_ID).unwrap_or_default().to_string();
    // What the X-Ray SDK and lambda_runtime's own handlers read.
    if trace_id.is_empty() {
        std::env::remove_var("_X_AMZN_TRACE_ID");
    } else {
        std::env::set_var("_X_AMZN_TRACE_ID", &trace_id);
    }
    let span = tracing::info_span!(
        "Lambda runtime invoke",
        requestId = %request_id,
        xrayTraceId = %trace_id
    );
    let Answer {
        body: answer,
        end_process,
    } = span.in_scope(|| handle(body, deadline));
    let path = match answer {
        Ok(_) => format!("{API}/invocation/{request_id}/response"),
        Err(_) => format!("{API}/invocation/{request_id}/error"),
    };
    let mut request = build_request().method(Method::POST).uri(path);
    if let Some(id) = &invocation_id {
        request = request.header(INVOCATION_ID, id);
    }
    let request: Request<Body> = match answer {
        Ok(json) => request.body(Body::new(Chunks::new(json)))?,
        Err(diagnostic) => request
            .header("lambda-runtime-function-error-type", "Unhandled")
            .body(Body::from(serde_json::to_vec(&diagnostic)?))?,
    };
    let sent: Response<_> = client.call(request).instrument(span.clone()).await?;
    if !sent.status().is_success() {
        // 410: the invocation timed out or the answer was stale; the next
        // invocation is still worth serving.
        span.in_scope(
            || tracing::error!(status = %sent.status(), "the Runtime API refused the answer"),
        );
    }
    if end_process {
        span.in_scope(|| {
            tracing::error!(
                "a thread is still inside the transform (a record past the deadline, or set aside \
                 after a panic while unwinding): ending the process so that Lambda starts a clean one"
            )
        });
        return Ok(Next::Exit);
    }
    Ok(Next::Continue)
}

/// A body sent as the pieces it is in (the response's JSON, most of it
/// where the engine's threads wrote it), with its exact length: so it goes
/// out with a `Content-Length`, as one answer, without joining the pieces
/// into one buffer first.
struct Chunks {
    chunks: VecDeque<bytes::Bytes>,
    len: u64,
}

impl Chunks {
    fn new(chunks: Vec<bytes::Bytes>) -> Self {
        let len = chunks.iter().map(|chunk| chunk.len() as u64).sum();
        Chunks {
            chunks: chunks.into(),
            len,
        }
    }
}

impl http_body::Body for Chunks {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<Frame<bytes::Bytes>, Self::Error>>> {
        let this = self.get_mut();
        Poll::Ready(this.chunks.pop_front().map(|chunk| {
            this.len -= chunk.len() as u64;
            Ok(Frame::data(chunk))
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

impl Answer {
    /// An error answer, logged.
    pub(crate) fn failed(error_type: &'static str, error: &dyn std::fmt::Display) -> Answer {
        tracing::error!(%error, "invocation failed");
        Answer {
            body: Err(Diagnostic {
                error_type,
                error_message: error.to_string(),
            }),
            end_process: false,
        }
    }
}

/// The response JSON, or the error, for one Firehose event.
fn answer<T: Transform>(
    served: &Served<T>,
    metrics: &MetricsConfig,
    body: bytes::Bytes,
    deadline: Option<Instant>,
) -> Answer {
    let event = match served.engine.parse_event(body) {
        Ok(event) => event,
        Err(error) => return Answer::failed("MalformedFirehoseEvent", &error),
    };
    match served.process(&event, deadline) {
        Ok(invocation) => {
            log_invocation(
                &invocation.summary,
                metrics,
                MetricsTo::Stdout,
                &invocation.failures,
                event.get(),
            );
            Answer {
                end_process: invocation.left_running,
                body: Ok(invocation.response.into_chunks()),
            }
        }
        Err(error) => Answer::failed("ResponseBudgetTooSmall", &error),
    }
}

/// Lambda's deadline (wall-clock milliseconds since the epoch) on the
/// monotonic clock the engine counts with. A deadline already past when the
/// event arrives never comes from Lambda (its timeout is at least 1 s);
/// emulators send placeholders (`cargo lambda watch` sends 600000 ms,
/// 1970-01-01T00:10:00Z). It is treated as unknown rather than failing every
/// record, and the engine's time limit applies.
fn deadline_from_epoch_ms(ms: u64) -> Option<Instant> {
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
    deadline
        .duration_since(SystemTime::now())
        .ok()
        .filter(|remaining| !remaining.is_zero())
        .map(|remaining| Instant::now() + remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_in_the_past_is_unknown() {
        assert_eq!(deadline_from_epoch_ms(600_000), None);
        let in_a_minute = SystemTime::now() + Duration::from_secs(60);
        let ms = in_a_minute
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let deadline = deadline_from_epoch_ms(ms).unwrap();
        let remaining = deadline - Instant::now();
        assert!(remaining > Duration::from_secs(58) && remaining <= Duration::from_secs(60));
    }
}
