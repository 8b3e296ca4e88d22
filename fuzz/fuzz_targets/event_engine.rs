//! Arbitrary bytes as a Firehose event: whatever parses goes through the
//! engine with the process-record blueprint, under the default budget and a
//! small one, and the response must keep the contract. The event's fast
//! reader must read what serde reads (whole, or in parts on several
//! threads), and the engine must answer the same whether the event comes
//! parsed (`SharedEvent`, with the ids measured by the reader) or built.
#![no_main]

use firehose_transform::blueprints::process_record::ProcessRecord;
use firehose_transform::engine::{ARRIVAL_OUT_OF_RANGE, NOT_BASE64, NO_PAYLOAD, OVER_BUDGET};
use firehose_transform::response::Response;
use firehose_transform::testing::{check_contract, Processed};
use firehose_transform::{
    Engine, EngineConfig, Event, InvocationError, SharedEvent, SourceKind,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

mod common;

/// The budget of the second engine: small enough that a few records fill it.
const SMALL_BUDGET: usize = 2048;

fn engines() -> &'static [Engine<ProcessRecord>; 2] {
    static ENGINES: OnceLock<[Engine<ProcessRecord>; 2]> = OnceLock::new();
    ENGINES.get_or_init(|| {
        let transform = || ProcessRecord {
            append_newline: true,
            drop_empty: true,
            ..ProcessRecord::default()
        };
        [
            Engine::new(transform()),
            Engine::with_config(
                transform(),
                EngineConfig {
                    response_budget: SMALL_BUDGET,
                    ..EngineConfig::default()
                },
            ),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let by_serde = serde_json::from_slice::<Event>(data).ok();
    let Ok(event) = Event::from_slice(data) else {
        assert!(by_serde.is_none(), "serde reads an event the fast path refused");
        return;
    };
    assert_eq!(by_serde.as_ref(), Some(&event), "the fast reader and serde disagree");
    let shared = SharedEvent::parse(data.to_vec()).expect("parsed once already");
    // Read in parts on threads of their own, from guesses at where records
    // start: the same event.
    let in_parts = SharedEvent::parse_on_threads(data.to_vec(), 3).expect("read whole already");
    assert_eq!(in_parts.get(), shared.get(), "the event read in parts differs");
    // The least a response can take: every record back as ProcessingFailed
    // (the fuzzer finds ids of hundreds of bytes, with escapes; Firehose's
    // are 56). Counted here with the response's own entry sizes; a budget
    // under it must be refused, whatever the budget.
    let measure = Response::new(event.source_kind() == SourceKind::Msk);
    let floor = measure.serialized_len()
        + event
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| measure.failed_entry_len(&r.record_id, i == 0))
            .sum::<usize>();
    for engine in engines() {
        let budget = engine.config().response_budget;
        let from_bytes = engine.process_shared(&shared, None);
        let invocation = match engine.process(&event, None) {
            Ok(invocation) => {
                let from_bytes = from_bytes.expect("the same event fits");
                assert_eq!(
                    from_bytes.response.into_json(),
                    invocation.response.clone().into_json(),
                    "a parsed and a built event answered differently"
                );
                invocation
            }
            Err(InvocationError::BudgetTooSmall { floor: f, budget: b, .. }) => {
                assert!(
                    matches!(from_bytes, Err(InvocationError::BudgetTooSmall { floor, .. }) if floor == f),
                    "a parsed event measured its floor differently"
                );
                assert!(f == floor && b == budget && floor > budget, "refused: floor {f}, budget {b}, ours {floor}");
                continue;
            }
            Err(error) => panic!("{error}"),
        };
        assert!(floor <= budget, "answered with a floor of {floor} over the budget {budget}");
        let processed = Processed::new(invocation);
        if let Err(violation) = check_contract(
            &event,
            processed.response_json(),
            engine.config().response_budget,
        ) {
            panic!("contract violated: {violation}");
        }
        common::assert_no_panics(&processed);
        // process-record itself never fails a record: only the engine does
        // (an arrival time outside RFC 3339 is the engine's too).
        for record in processed.records() {
            if let Some(failure) = &record.failure {
                assert!(
                    [NOT_BASE64, NO_PAYLOAD, OVER_BUDGET, ARRIVAL_OUT_OF_RANGE].contains(&failure.reason()),
                    "unexpected failure {failure:?}"
                );
            }
        }
        // The owned copy is the same event.
        assert_eq!(
            event.records.len(),
            event.clone().into_owned().records.len()
        );
    }
});
