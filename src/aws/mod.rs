//! Everything that talks to AWS, behind the `aws` cargo feature: the
//! byte-aware [writer] for Firehose `PutRecordBatch` and Kinesis
//! `PutRecords`, [re-ingestion](reingest) of records that do not fit the
//! response, the [forwarder](forward) from Kinesis Data Streams (or DynamoDB
//! Streams) to Firehose, and [DynamoDB lookups](dynamodb).
//!
//! ## Synchronous stages, an asynchronous SDK
//!
//! The engine and every [`Transform`](crate::Transform) are synchronous, and
//! they run inside `lambda_runtime`'s current-thread tokio runtime (the
//! handler calls the engine from its future). The AWS SDK is asynchronous.
//! Calling `block_on` from there panics ("cannot start a runtime from within
//! a runtime"), and `block_in_place` needs a multi-threaded runtime.
//!
//! So [`Aws`] owns a **dedicated current-thread runtime on its own thread**,
//! made once per execution environment. A synchronous caller hands it a
//! future ([`Aws::block_on`]) and waits on a plain channel for the result.
//! Blocking the Lambda runtime's thread while it waits is right here: Lambda
//! sends one invocation at a time to an execution environment, the engine is
//! already blocking that thread while it processes the batch, and nothing
//! else waits on it. The SDK's connection pool lives on the dedicated runtime,
//! so connections (and their TLS sessions) are kept across invocations; a
//! runtime made per call would drop them every time.
//!
//! ## Endpoint, region, credentials
//!
//! [`Aws::from_env`] loads the standard SDK configuration: the region from
//! `AWS_REGION` (Lambda sets it), credentials from the default chain (the
//! function's role on Lambda), and the endpoint from `AWS_ENDPOINT_URL` (or
//! the per-service `AWS_ENDPOINT_URL_FIREHOSE`, `_KINESIS`, `_DYNAMODB`), which
//! is how the tests point the SDK at a local server. HTTPS uses rustls with
//! the `ring` crypto provider (quicker to build than aws-lc) and the system's
//! root certificates.
//!
//! The SDK's own retries are turned off: the [writer] and the
//! [DynamoDB lookup](dynamodb) retry themselves, per entry and bounded by the
//! invocation's deadline, which the SDK knows nothing about.

use std::fmt;
use std::future::Future;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_sdk_firehose::error::ProvideErrorMetadata;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

pub mod backoff;
pub mod dynamodb;
pub mod forward;
pub mod reingest;
pub mod writer;

/// The AWS SDK configuration and the runtime its calls run on.
///
/// Cheap to clone: clones share the runtime thread and the configuration.
#[derive(Clone, Debug)]
pub struct Aws {
    handle: tokio::runtime::Handle,
    config: aws_config::SdkConfig,
}

/// Why the AWS configuration could not be set up.
#[derive(Debug)]
pub struct SetupError(String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

impl Aws {
    /// Starts the runtime thread and loads the SDK configuration from the
    /// environment (region, credentials, `AWS_ENDPOINT_URL`).
    ///
    /// ```
    /// # std::env::set_var("AWS_REGION", "eu-west-1");
    /// let aws = firehose_transform::aws::Aws::from_env().unwrap();
    /// assert_eq!(aws.region(), Some("eu-west-1"));
    /// ```
    pub fn from_env() -> Result<Aws, SetupError> {
        Aws::load(None)
    }

    /// [`from_env`](Aws::from_env), with every service at `endpoint`
    /// (a local server, a proxy) whatever `AWS_ENDPOINT_URL` says.
    pub fn with_endpoint(endpoint: &str) -> Result<Aws, SetupError> {
        Aws::load(Some(endpoint))
    }

    fn load(endpoint: Option<&str>) -> Result<Aws, SetupError> {
        let handle = start_runtime()?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .retry_config(RetryConfig::disabled());
        let loader = match endpoint {
            Some(url) => loader.endpoint_url(url),
            None => loader,
        };
        let config = block_on_handle(&handle, async move { loader.load().await })?;
        if config.region().is_none() {
            return Err(SetupError(
                "AWS_REGION: no AWS region is configured (set AWS_REGION)".to_string(),
            ));
        }
        Ok(Aws { handle, config })
    }

    /// The region the clients use.
    pub fn region(&self) -> Option<&str> {
        self.config.region().map(|r| r.as_ref())
    }

    /// The SDK configuration, for making other clients.
    pub fn sdk_config(&self) -> &aws_config::SdkConfig {
        &self.config
    }

    /// A Firehose client.
    pub fn firehose(&self) -> aws_sdk_firehose::Client {
        aws_sdk_firehose::Client::new(&self.config)
    }

    /// A Kinesis Data Streams client.
    pub fn kinesis(&self) -> aws_sdk_kinesis::Client {
        aws_sdk_kinesis::Client::new(&self.config)
    }

    /// A DynamoDB client.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config)
    }

    /// Runs `future` on the AWS runtime thread and waits for its output.
    /// Callable from synchronous code anywhere, including inside another
    /// tokio runtime (see the [module](self) documentation for why).
    ///
    /// # Panics
    /// If the runtime thread has gone (it lives as long as the process).
    pub fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        block_on_handle(&self.handle, future).expect("the AWS runtime thread is running")
    }
}

fn start_runtime() -> Result<tokio::runtime::Handle, SetupError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("aws-sdk")
        .build()
        .map_err(|e| SetupError(format!("cannot start the AWS runtime: {e}")))?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("aws-sdk".to_string())
        .spawn(move || {
            // Drives every task spawned through the handle, for the life of
            // the process.
            runtime.block_on(std::future::pending::<()>());
        })
        .map_err(|e| SetupError(format!("cannot start the AWS runtime thread: {e}")))?;
    Ok(handle)
}

fn block_on_handle<F>(handle: &tokio::runtime::Handle, future: F) -> Result<F::Output, SetupError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (send, receive) = mpsc::sync_channel(1);
    handle.spawn(async move {
        let _ = send.send(future.await);
    });
    receive
        .recv()
        .map_err(|_| SetupError("the AWS runtime thread stopped".to_string()))
}

/// A point in time work must be finished by, if any. `None` means no
/// deadline (local runs), and attempts alone bound the retries.
pub(crate) fn time_left(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

/// Why a whole call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallError {
    pub(crate) message: String,
    pub(crate) retryable: bool,
}

/// Classifies an SDK error: throttling, 5xx, timeouts and connection
/// failures are worth retrying; a missing stream or a refused permission
/// is not.
pub(crate) fn call_error<E, R>(error: aws_sdk_firehose::error::SdkError<E, R>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    use aws_sdk_firehose::error::SdkError;
    let retryable = match &error {
        SdkError::ConstructionFailure(_) => false,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("");
            RETRYABLE_CODES.iter().any(|c| code.contains(c))
        }
        _ => true,
    };
    let message = match error.code() {
        Some(code) => format!("{code}: {}", error.message().unwrap_or("(no message)")),
        None => aws_sdk_firehose::error::DisplayErrorContext(&error).to_string(),
    };
    CallError { message, retryable }
}

pub(crate) const RETRYABLE_CODES: &[&str] = &[
    "Throttl",
    "ProvisionedThroughputExceeded",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServerError",
    "LimitExceeded",
    "RequestTimeout",
    "SlowDown",
];
