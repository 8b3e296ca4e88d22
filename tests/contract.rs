//! The engine's guarantees under random batches: random record sizes, random
//! outcomes (kept, dropped, failed, panicked, grown many times over), random
//! sources and budgets, one to four threads. Whatever happens, every id comes
//! back once and in order, the response stays within the budget, and the same
//! event always gives the same response, whatever the number of threads; or,
//! when even failing every record would not fit the budget, the invocation
//! is refused.

use firehose_transform::engine::{OVER_BUDGET, PANICKED};
use firehose_transform::response::{RecordResult, Response};
use firehose_transform::testing::{check_contract, EventBuilder, Processed};
use firehose_transform::{
    Context, Engine, EngineConfig, Failure, InvocationError, Output, Record, SourceKind, Transform,
};
use proptest::prelude::*;

/// Does what each record's first byte says: 0 keep, 1 drop, 2 fail, 3 panic,
/// 4.. grow the record that many times (the worst case for the budget), and
/// sets a partition key on odd-length records.
struct Scripted;

impl Transform for Scripted {
    type Item<'a> = &'a [u8];

    fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<&'a [u8], Failure> {
        match record.data.first() {
            Some(2) => Err(Failure::new("scripted failure")),
            Some(3) => panic!("scripted panic"),
            _ => Ok(record.data),
        }
    }

    fn filter(&self, data: &&[u8], cx: &mut Context) -> bool {
        cx.count("seen");
        data.first() != Some(&1)
    }

    fn convert(&self, data: &[u8], out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
        let times = match data.first() {
            Some(&n) if n >= 4 => usize::from(n),
            _ => 1,
        };
        for _ in 0..times {
            out.write(data);
        }
        if data.len() % 2 == 1 {
            out.partition_key("len", data.len().to_string());
        }
        Ok(())
    }
}

fn record() -> impl Strategy<Value = Vec<u8>> {
    (0u8..12, proptest::collection::vec(any::<u8>(), 0..3000)).prop_map(|(script, mut data)| {
        data.insert(0, script);
        data
    })
}

fn source() -> impl Strategy<Value = SourceKind> {
    prop_oneof![
        Just(SourceKind::DirectPut),
        Just(SourceKind::Kinesis),
        Just(SourceKind::Msk)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_id_once_in_order_within_budget_and_deterministic(
        records in proptest::collection::vec(record(), 0..60),
        source in source(),
        budget in 200usize..120_000,
    ) {
        let event = EventBuilder::new().source(source).lines(&records).build();
        // The response with every record failed, counted independently of the engine.
        let measure = Response::new(source == SourceKind::Msk);
        let floor = measure.serialized_len()
            + event.records.iter().enumerate()
                .map(|(i, r)| measure.failed_entry_len(&r.record_id, i == 0))
                .sum::<usize>();
        let mut outcomes = Vec::new();
        for threads in 1..=4 {
            let config = EngineConfig {
                response_budget: budget,
                threads,
                parallel_min_bytes: 0,
                ..EngineConfig::default()
            };
            outcomes.push(Engine::with_config(Scripted, config).process(&event, None));
        }
        if floor > budget {
            for outcome in &outcomes {
                let refused = matches!(outcome, Err(InvocationError::BudgetTooSmall { floor: f, budget: b, .. }) if *f == floor && *b == budget);
                prop_assert!(refused, "floor {} over budget {}: {:?}", floor, budget, outcome.as_ref().map(|i| i.summary.clone()));
            }
            return Ok(());
        }
        let mut outcomes = outcomes.into_iter().map(|o| o.expect("the floor fits"));
        let first = outcomes.next().expect("four runs");
        let json = first.response.to_json();
        for other in outcomes {
            prop_assert_eq!(&json, &other.response.to_json(), "same event, different response");
        }
        prop_assert_eq!(json.len(), first.response.serialized_len());
        if let Err(violation) = check_contract(&event, &json, budget) {
            prop_assert!(false, "{}", violation);
        }

        let processed = Processed::new(first);
        for (i, data) in records.iter().enumerate() {
            let record = processed.record(i);
            match (data[0], record.result) {
                (1, result) => prop_assert_eq!(result, RecordResult::Dropped),
                (2, _) => prop_assert_eq!(processed.failure_reason(i), Some("scripted failure")),
                (3, _) => prop_assert_eq!(processed.failure_reason(i), Some(PANICKED)),
                (_, RecordResult::Ok) => {
                    let times = if data[0] >= 4 { usize::from(data[0]) } else { 1 };
                    let expected = data.repeat(times);
                    prop_assert_eq!(processed.data(i), expected.as_slice());
                }
                (_, RecordResult::ProcessingFailed) => prop_assert_eq!(processed.failure_reason(i), Some(OVER_BUDGET)),
                (_, RecordResult::Dropped) => prop_assert!(false, "record {} dropped", i),
            }
        }
        prop_assert_eq!(processed.summary().counters.get("seen").copied().unwrap_or(0),
            records.iter().filter(|r| r[0] != 2 && r[0] != 3).count() as u64);
    }

}

proptest! {
    // Each case is a full-size batch: a few are enough.
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// With the default 6 MiB budget and a batch within Firehose's 6 MB request
    /// limit, a transform growing records tenfold still gets a valid response.
    #[test]
    fn tenfold_growth_of_a_full_batch_stays_under_six_mebibytes(seed in any::<u64>()) {
        let mut state = seed | 1;
        let records: Vec<Vec<u8>> = (0..600)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let mut data = vec![10u8];
                data.resize(1 + (state % 4000) as usize, b'x');
                data
            })
            .collect();
        let event = EventBuilder::new().lines(&records).build();
        let invocation = Engine::new(Scripted).process(&event, None).expect("the floor fits");
        let json = invocation.response.to_json();
        prop_assert!(json.len() <= 6 * 1024 * 1024);
        prop_assert!(invocation.summary.failures.iter().any(|g| g.reason == OVER_BUDGET));
        if let Err(violation) = check_contract(&event, &json, 6 * 1024 * 1024) {
            prop_assert!(false, "{}", violation);
        }
    }
}
