//! GeoIP enrichment against MaxMind's test databases, with the expected values
//! taken from the JSON each database was built from (fixtures/mmdb/source-data).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::mpsc;
use std::time::Duration;

use firehose_transform::config::Settings;
use firehose_transform::enrich::geoip::{DatabaseKind, Field, FieldSet, Geo, GeoIp, Skip};
use firehose_transform::formats::json::ObjectWriter;
use serde_json::{Map, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mmdb");

fn fixture(name: &str) -> String {
    format!("{DIR}/{name}")
}

fn open(names: &[&str], fields: FieldSet, language: &str) -> GeoIp {
    names
        .iter()
        .fold(GeoIp::builder(), |builder, name| {
            builder.database(fixture(name))
        })
        .fields(fields)
        .language(language)
        .open()
        .unwrap()
}

/// One network of a source JSON file: its first address as a 128-bit number
/// (IPv4 as `::a.b.c.d`), its prefix length in that space, and its data.
struct Network {
    start: u128,
    prefix: u32,
    data: Value,
}

impl Network {
    fn end(&self) -> u128 {
        self.start | u128::MAX.checked_shr(self.prefix).unwrap_or(0)
    }

    fn contains(&self, other: &Network) -> bool {
        self.start <= other.start && other.end() <= self.end()
    }

    fn overlaps(&self, other: &Network) -> bool {
        self.start <= other.end() && other.start <= self.end()
    }
}

fn source(name: &str) -> Vec<Network> {
    let text = std::fs::read_to_string(fixture(&format!("source-data/{name}"))).unwrap();
    let entries: Vec<Map<String, Value>> = serde_json::from_str(&text).unwrap();
    let mut networks = Vec::new();
    for entry in entries {
        for (key, data) in entry {
            let (address, prefix) = key.split_once('/').unwrap();
            let prefix: u32 = prefix.parse().unwrap();
            let (start, prefix) = match address.parse::<IpAddr>().unwrap() {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), prefix + 96),
                IpAddr::V6(v6) => (u128::from(v6), prefix),
            };
            networks.push(Network {
                start,
                prefix,
                data,
            });
        }
    }
    networks
}

/// The address a 128-bit number stands for in these databases: `::a.b.c.d`
/// is the IPv4 address a.b.c.d.
fn address(n: u128) -> IpAddr {
    if n >> 32 == 0 {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

/// The data for `ip` in a source file: the most specific network holding it.
fn source_record<'a>(networks: &'a [Network], ip: &str) -> &'a Value {
    let n = match ip.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    };
    let probe = Network {
        start: n,
        prefix: 128,
        data: Value::Null,
    };
    &networks
        .iter()
        .filter(|network| network.contains(&probe))
        .max_by_key(|network| network.prefix)
        .unwrap_or_else(|| panic!("{ip} is in no network of the source"))
        .data
}

/// What the enricher should produce for a source record: the GeoIP2 JSON
/// translated field by field, names in `language` or else English.
fn expected(record: &Value, fields: FieldSet, language: &str) -> Map<String, Value> {
    let name = |place: &Value| {
        let names = &place["names"];
        names.get(language).or_else(|| names.get("en")).cloned()
    };
    let first_subdivision = &record["subdivisions"][0];
    // ASN and ISP records hold the AS at the top; Enterprise, under traits.
    let autonomous_system = |key: &str| {
        record
            .get(key)
            .or_else(|| record["traits"].get(key))
            .cloned()
    };
    let mut map = Map::new();
    for field in fields.iter() {
        let value = match field {
            Field::ContinentCode => record["continent"].get("code").cloned(),
            Field::CountryIsoCode => record["country"].get("iso_code").cloned(),
            Field::CountryName => name(&record["country"]),
            Field::SubdivisionIsoCode => first_subdivision.get("iso_code").cloned(),
            Field::SubdivisionName => name(first_subdivision),
            Field::CityName => name(&record["city"]),
            Field::PostalCode => record["postal"].get("code").cloned(),
            Field::Latitude => record["location"].get("latitude").cloned(),
            Field::Longitude => record["location"].get("longitude").cloned(),
            Field::AccuracyRadius => record["location"].get("accuracy_radius").cloned(),
            Field::TimeZone => record["location"].get("time_zone").cloned(),
            Field::Asn => autonomous_system("autonomous_system_number"),
            Field::AsOrg => autonomous_system("autonomous_system_organization"),
        };
        if let Some(value) = value {
            map.insert(field.name().to_string(), value);
        }
    }
    numbers_as_floats(map)
}

/// The members `write_members` writes, parsed back.
fn written(geo: &Geo<'_>) -> Map<String, Value> {
    let mut out = Vec::new();
    let mut obj = ObjectWriter::new(&mut out);
    geo.write_members(&mut obj);
    obj.finish();
    numbers_as_floats(serde_json::from_slice(&out).unwrap())
}

/// The source JSON writes whole-degree coordinates as integers (`37`) where
/// the database holds a double (`37.0`): compare numbers by value.
fn numbers_as_floats(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, value)| match value.as_f64() {
            Some(number) => (key, Value::from(number)),
            None => (key, value),
        })
        .collect()
}

fn check(geoip: &GeoIp, networks: &[Network], ip: &str) -> Map<String, Value> {
    let want = expected(
        source_record(networks, ip),
        geoip.fields(),
        geoip.language(),
    );
    let geo = geoip
        .lookup_str(ip)
        .unwrap_or_else(|skip| panic!("{ip}: {skip}"));
    let got = written(&geo);
    assert_eq!(got, want, "{ip}");
    got
}

#[test]
fn city_fields_match_the_source_data_for_the_well_known_addresses() {
    let geoip = open(
        &["GeoIP2-City-Test.mmdb"],
        FieldSet::ALL.difference(FieldSet::of(&[Field::Asn, Field::AsOrg])),
        "en",
    );
    let networks = source("GeoIP2-City-Test.json");

    let london = check(&geoip, &networks, "81.2.69.142");
    assert_eq!(london["city_name"], "London");
    assert_eq!(london["country_iso_code"], "GB");
    assert_eq!(london["subdivision_iso_code"], "ENG");
    assert_eq!(london["latitude"], 51.5142);
    assert_eq!(london["time_zone"], "Europe/London");

    let boxford = check(&geoip, &networks, "2.125.160.216");
    assert_eq!(boxford["city_name"], "Boxford");
    assert_eq!(boxford["country_iso_code"], "GB");
    assert_eq!(boxford["postal_code"], "OX1");

    let linkoping = check(&geoip, &networks, "89.160.20.112");
    assert_eq!(linkoping["city_name"], "Linköping");
    assert_eq!(linkoping["country_iso_code"], "SE");
    assert_eq!(linkoping["subdivision_name"], "Östergötland County");

    let milton = check(&geoip, &networks, "216.160.83.56");
    assert_eq!(milton["city_name"], "Milton");
    assert_eq!(milton["country_iso_code"], "US");
    assert_eq!(milton["subdivision_iso_code"], "WA");
    assert_eq!(milton["accuracy_radius"], 22.0);

    let san_diego = check(&geoip, &networks, "2001:480:10::1");
    assert_eq!(san_diego["city_name"], "San Diego");
    assert_eq!(san_diego["subdivision_iso_code"], "CA");
    assert_eq!(san_diego["continent_code"], "NA");
}

/// Every network of the City source that no other network overlaps (so its
/// data is unambiguous), at its first and last address, all fields.
#[test]
fn every_unambiguous_city_network_matches_the_source_data() {
    for (database, json) in [
        ("GeoIP2-City-Test.mmdb", "GeoIP2-City-Test.json"),
        ("GeoIP2-Country-Test.mmdb", "GeoIP2-Country-Test.json"),
    ] {
        let kind_fields = if database.contains("City") {
            DatabaseKind::City.provides()
        } else {
            DatabaseKind::Country.provides()
        };
        let networks = source(json);
        for language in ["en", "de", "zh-CN"] {
            let geoip = open(&[database], kind_fields, language);
            let mut checked = 0;
            for (i, network) in networks.iter().enumerate() {
                let ambiguous = networks
                    .iter()
                    .enumerate()
                    .any(|(j, other)| i != j && network.overlaps(other));
                if ambiguous || network.prefix < 96 && network.start >> 32 == 0 {
                    continue;
                }
                for n in [network.start, network.end()] {
                    let ip = address(n);
                    if Skip::for_address(ip).is_some() {
                        continue;
                    }
                    let want = expected(&network.data, kind_fields, language);
                    match geoip.lookup(ip) {
                        Ok(geo) => {
                            assert_eq!(written(&geo), want, "{ip} in {database} ({language})")
                        }
                        Err(skip) => {
                            assert_eq!(skip, Skip::NotFound, "{ip}");
                            assert!(
                                want.is_empty(),
                                "{ip} not found in {database}, expected {want:?}"
                            );
                        }
                    }
                    checked += 1;
                }
            }
            assert!(
                checked > 200,
                "only {checked} addresses checked in {database}"
            );
        }
    }
}

/// The record cache must give exactly what decoding gives, whatever the
/// size (one slot: every lookup evicts the previous record).
#[test]
fn cached_records_equal_freshly_decoded_ones() {
    let networks = source("GeoIP2-City-Test.json");
    let open_with = |slots: usize| {
        GeoIp::builder()
            .database(fixture("GeoIP2-City-Test.mmdb"))
            .database(fixture("GeoLite2-ASN-Test.mmdb"))
            .fields(FieldSet::ALL)
            .language("de")
            .record_cache(slots)
            .open()
            .unwrap()
    };
    let uncached = open_with(0);
    for slots in [1, 7, 1024] {
        let cached = open_with(slots);
        for _ in 0..2 {
            for network in &networks {
                for n in [network.start, network.end()] {
                    let ip = address(n);
                    assert_eq!(
                        cached.lookup(ip),
                        uncached.lookup(ip),
                        "{ip} with {slots} slots"
                    );
                }
            }
        }
    }
}

#[test]
fn asn_and_isp_databases_give_the_autonomous_system() {
    for (database, json) in [
        ("GeoLite2-ASN-Test.mmdb", "GeoLite2-ASN-Test.json"),
        ("GeoIP2-ISP-Test.mmdb", "GeoIP2-ISP-Test.json"),
    ] {
        let geoip = open(&[database], FieldSet::of(&[Field::Asn, Field::AsOrg]), "en");
        let networks = source(json);
        let mut found = 0;
        for (i, network) in networks.iter().enumerate() {
            let ambiguous = networks
                .iter()
                .enumerate()
                .any(|(j, other)| i != j && network.overlaps(other));
            let ip = address(network.start);
            if ambiguous || Skip::for_address(ip).is_some() {
                continue;
            }
            let want = expected(&network.data, geoip.fields(), "en");
            match geoip.lookup(ip) {
                Ok(geo) => {
                    assert_eq!(written(&geo), want, "{ip} in {database}");
                    found += 1;
                }
                Err(skip) => assert!(
                    skip == Skip::NotFound && want.is_empty(),
                    "{ip}: {skip}, expected {want:?}"
                ),
            }
        }
        assert!(found > 100, "only {found} found in {database}");
    }

    let asn = open(
        &["GeoLite2-ASN-Test.mmdb"],
        FieldSet::of(&[Field::Asn, Field::AsOrg]),
        "en",
    );
    let geo = asn.lookup_str("1.128.0.1").unwrap();
    assert_eq!(geo.asn, Some(1221));
    assert_eq!(geo.as_org, Some("Telstra Pty Ltd"));
}

#[test]
fn city_and_asn_databases_combine_into_one_result() {
    let geoip = GeoIp::builder()
        .database(fixture("GeoIP2-City-Test.mmdb"))
        .database(fixture("GeoLite2-ASN-Test.mmdb"))
        .open()
        .unwrap();
    assert_eq!(geoip.fields(), FieldSet::DEFAULT);
    let kinds: Vec<_> = geoip.databases().map(|db| (db.kind, db.fields)).collect();
    assert_eq!(kinds[0].0, DatabaseKind::City);
    assert_eq!(
        kinds[1],
        (DatabaseKind::Asn, FieldSet::of(&[Field::Asn, Field::AsOrg]))
    );

    // 89.160.20.112 is in both: Linköping, and AS 29518 (Bredband2 AB).
    let geo = geoip.lookup_str("89.160.20.112").unwrap();
    assert_eq!(geo.city_name, Some("Linköping"));
    assert_eq!(geo.asn, Some(29518));
    assert_eq!(geo.as_org, Some("Bredband2 AB"));
    // Only in the ASN database: the city fields are simply absent.
    let geo = geoip.lookup_str("1.128.0.1").unwrap();
    assert_eq!((geo.city_name, geo.asn), (None, Some(1221)));
}

#[test]
fn an_earlier_database_provides_the_fields_it_shares_with_a_later_one() {
    let geoip = GeoIp::builder()
        .database(fixture("GeoIP2-Country-Test.mmdb"))
        .database(fixture("GeoIP2-City-Test.mmdb"))
        .fields(FieldSet::of(&[Field::CountryIsoCode, Field::CityName]))
        .open()
        .unwrap();
    let plan: Vec<_> = geoip.databases().map(|db| db.fields).collect();
    assert_eq!(
        plan,
        [
            FieldSet::of(&[Field::CountryIsoCode]),
            FieldSet::of(&[Field::CityName])
        ]
    );
    let geo = geoip.lookup_str("81.2.69.142").unwrap();
    assert_eq!(
        (geo.country_iso_code, geo.city_name),
        (Some("GB"), Some("London"))
    );
}

#[test]
fn names_come_in_the_configured_language_falling_back_to_english() {
    let geoip = open(
        &["GeoIP2-City-Test.mmdb"],
        FieldSet::ALL.difference(FieldSet::of(&[Field::Asn, Field::AsOrg])),
        "de",
    );
    let networks = source("GeoIP2-City-Test.json");
    let london = check(&geoip, &networks, "81.2.69.142");
    assert_eq!(london["country_name"], "Vereinigtes Königreich");
    // England has no German name in the data: English instead.
    assert_eq!(london["subdivision_name"], "England");
    let boxford = check(&geoip, &networks, "2.125.160.216");
    assert_eq!(boxford["city_name"], "Boxford");

    let geoip = open(
        &["GeoIP2-City-Test.mmdb"],
        FieldSet::of(&[Field::CityName, Field::CountryName]),
        "zh-CN",
    );
    let geo = geoip.lookup_str("89.160.20.112").unwrap();
    assert_eq!(
        (geo.city_name, geo.country_name),
        (Some("林雪平"), Some("瑞典"))
    );
    // Milton has no Chinese name.
    assert_eq!(
        geoip.lookup_str("216.160.83.56").unwrap().city_name,
        Some("Milton")
    );
}

#[test]
fn ipv4_mapped_ipv6_addresses_are_looked_up_as_ipv4() {
    let geoip = open(
        &["GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb"],
        FieldSet::ALL,
        "en",
    );
    for v4 in ["81.2.69.142", "89.160.20.112", "216.160.83.56", "1.128.0.1"] {
        let mapped = format!("::ffff:{v4}");
        assert_eq!(
            geoip.lookup_str(&mapped).unwrap(),
            geoip.lookup_str(v4).unwrap(),
            "{mapped}"
        );
    }
    assert_eq!(
        geoip.lookup_str("::ffff:192.168.1.1").unwrap_err(),
        Skip::Private
    );
}

#[test]
fn special_unknown_and_malformed_addresses_are_skips_with_counters() {
    let geoip = open(
        &["GeoIP2-City-Test.mmdb"],
        FieldSet::of(&[Field::CityName]),
        "en",
    );
    let cases = [
        ("10.1.2.3", Skip::Private, "geoip.private"),
        ("fd00::1", Skip::Private, "geoip.private"),
        ("127.0.0.1", Skip::Loopback, "geoip.loopback"),
        ("::1", Skip::Loopback, "geoip.loopback"),
        ("169.254.169.254", Skip::LinkLocal, "geoip.link_local"),
        ("224.0.0.251", Skip::Reserved, "geoip.reserved"),
        ("1.1.1.1", Skip::NotFound, "geoip.not_found"),
        ("2c0f:ff00::1", Skip::NotFound, "geoip.not_found"),
        // In the database, but with no city: nothing of what was asked for.
        ("2001:218::1", Skip::NotFound, "geoip.not_found"),
        (
            "not an address",
            Skip::InvalidAddress,
            "geoip.invalid_address",
        ),
        (
            "81.2.69.142:443",
            Skip::InvalidAddress,
            "geoip.invalid_address",
        ),
        ("", Skip::InvalidAddress, "geoip.invalid_address"),
    ];
    for (text, skip, counter) in cases {
        assert_eq!(geoip.lookup_str(text), Err(skip), "{text:?}");
        assert_eq!(skip.counter(), counter);
    }
}

#[test]
fn an_ipv4_only_database_reports_ipv6_addresses_as_not_found() {
    let geoip = GeoIp::builder()
        .database_as(fixture("MaxMind-DB-test-ipv4-24.mmdb"), DatabaseKind::Asn)
        .open()
        .unwrap();
    assert_eq!(geoip.lookup_str("2001:480:10::1"), Err(Skip::NotFound));
    assert_eq!(geoip.lookup_str("1.1.1.1"), Err(Skip::NotFound)); // data, but no AS fields
}

#[test]
fn enrich_object_writes_a_nested_object_or_nothing() {
    let geoip = open(
        &["GeoIP2-City-Test.mmdb"],
        FieldSet::of(&[Field::CountryIsoCode, Field::CityName]),
        "en",
    );
    let mut out = br#"{"a":1"#.to_vec();
    let mut obj = ObjectWriter::resume(&mut out, true);
    geoip.enrich_object("81.2.69.142", &mut obj, "geo").unwrap();
    assert_eq!(
        geoip.enrich_object("10.0.0.1", &mut obj, "other"),
        Err(Skip::Private)
    );
    obj.finish();
    assert_eq!(
        out,
        br#"{"a":1,"geo":{"country_iso_code":"GB","city_name":"London"}}"#
    );
}

/// Opens a bad database (as the configuration would, and forced to the
/// Enterprise layout with every field so that lookups decode as much as
/// possible) and looks up a spread of addresses: each open must fail with a
/// one-line error or every lookup must give a value or a skip.
fn exercise_bad_database(path: &str) -> String {
    let mut report = String::new();
    match GeoIp::builder().database(path).open() {
        Err(error) => {
            let text = error.to_string();
            assert!(!text.contains('\n') && text.starts_with(path), "{text}");
            report.push_str("detected: error; ");
        }
        Ok(_) => report.push_str("detected: opened; "),
    }
    let geoip = match GeoIp::builder()
        .database_as(path, DatabaseKind::Enterprise)
        .fields(FieldSet::ALL)
        .open()
    {
        Err(error) => {
            let text = error.to_string();
            assert!(!text.contains('\n') && text.starts_with(path), "{text}");
            return report + "forced: error at open";
        }
        Ok(geoip) => geoip,
    };
    let mut addresses: Vec<IpAddr> = Vec::new();
    for i in 0..4096u32 {
        // Spread over the whole IPv4 space, the test databases' own ranges,
        // and the IPv6 space.
        addresses.push(IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(1_048_573))));
        addresses.push(IpAddr::V4(Ipv4Addr::from(0x0101_0000 | (i & 0xffff))));
        addresses.push(IpAddr::V6(Ipv6Addr::from(
            u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
        )));
    }
    for network in [
        "81.2.69.142",
        "89.160.20.112",
        "216.160.83.56",
        "2001:480:10::1",
        "::1.1.1.1",
    ] {
        addresses.push(network.parse().unwrap());
    }
    let (mut found, mut errors) = (0, 0);
    for ip in addresses {
        match geoip.lookup(ip) {
            Ok(_) => found += 1,
            Err(Skip::LookupError) => errors += 1,
            Err(_) => {}
        }
    }
    report + &format!("forced: {found} found, {errors} lookup errors")
}

#[test]
fn each_corrupt_database_fails_at_open_or_per_lookup_without_panic_or_hang() {
    let mut paths: Vec<String> = std::fs::read_dir(fixture("bad"))
        .unwrap()
        .map(|entry| entry.unwrap().path().display().to_string())
        .filter(|path| path.ends_with(".mmdb"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 25);
    let mut outcomes = Vec::new();
    for path in paths {
        // A thread with a small stack: the decode path's depth is bounded
        // by its types, so corrupt nesting cannot exhaust even this.
        let (send, receive) = mpsc::channel();
        let worker = path.clone();
        std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || {
                let _ = send.send(exercise_bad_database(&worker));
            })
            .unwrap();
        match receive.recv_timeout(Duration::from_secs(60)) {
            Ok(report) => {
                eprintln!("{path}: {report}");
                outcomes.push(format!("{path}: {report}"))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{path}: lookups hung"),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{path}: panicked"),
        }
    }
    let errors_at_open = outcomes
        .iter()
        .filter(|o| o.ends_with("error at open"))
        .count();
    let lookup_errors = outcomes
        .iter()
        .filter(|o| !o.contains(" 0 lookup errors") && !o.ends_with("open"))
        .count();
    assert!(errors_at_open >= 10, "{outcomes:#?}");
    assert!(lookup_errors >= 5, "{outcomes:#?}");
}

#[test]
fn a_missing_database_is_a_one_line_configuration_error() {
    let settings = Settings::from_pairs([("GEOIP_DATABASE", "/nonexistent/GeoLite2-City.mmdb")]);
    let error = GeoIp::from_settings(&settings).unwrap_err();
    assert_eq!(
        error.to_string(),
        "GEOIP_DATABASE: /nonexistent/GeoLite2-City.mmdb: cannot open: No such file or directory (os error 2)"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_a_one_line_configuration_error() {
    let license = fixture("LICENSE-MIT");
    let settings = Settings::from_pairs([("GEOIP_DATABASE", license.as_str())]);
    assert_eq!(
        GeoIp::from_settings(&settings).unwrap_err().to_string(),
        format!(
            "GEOIP_DATABASE: {license}: not a valid MaxMind DB file (invalid database: could not find MaxMind DB metadata in file)"
        )
    );

    let settings = Settings::from_pairs([("GEOIP_DATABASE", DIR)]);
    assert_eq!(
        GeoIp::from_settings(&settings).unwrap_err().to_string(),
        format!("GEOIP_DATABASE: {DIR}: is a directory, not a file")
    );

    let anonymous = fixture("GeoIP2-Anonymous-IP-Test.mmdb");
    let settings = Settings::from_pairs([("GEOIP_DATABASE", anonymous.as_str())]);
    assert_eq!(
        GeoIp::from_settings(&settings).unwrap_err().to_string(),
        format!(
            "GEOIP_DATABASE: {anonymous}: database type \"GeoIP2-Anonymous-IP\" is not one GeoIP enrichment reads (City, Country, ASN, ISP or Enterprise)"
        )
    );
}

#[test]
fn a_corrupt_database_names_the_file_and_the_problem() {
    let bad = fixture("bad/GeoIP2-City-Test-Invalid-Node-Count.mmdb");
    let settings = Settings::from_pairs([("GEOIP_DATABASE", bad.as_str())]);
    assert_eq!(
        GeoIp::from_settings(&settings).unwrap_err().to_string(),
        format!("GEOIP_DATABASE: {bad}: not a valid MaxMind DB file (invalid database: the MaxMind DB file's search tree extends beyond the metadata section)")
    );
}

#[test]
fn fields_and_language_settings_are_checked_against_the_databases() {
    let city = fixture("GeoIP2-City-Test.mmdb");
    let asn = fixture("GeoLite2-ASN-Test.mmdb");
    let with =
        |pairs: &[(&str, &str)]| GeoIp::from_settings(&Settings::from_pairs(pairs.iter().copied()));

    assert!(with(&[("OTHER", "x")]).unwrap().is_none());

    let error = with(&[
        ("GEOIP_DATABASE", &city),
        ("GEOIP_FIELDS", "city_name,town"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "GEOIP_FIELDS: unknown field \"town\" (known: continent_code,country_iso_code,country_name,subdivision_iso_code,subdivision_name,city_name,postal_code,latitude,longitude,accuracy_radius,time_zone,asn,as_org)"
    );

    let error = with(&[("GEOIP_DATABASE", &asn), ("GEOIP_FIELDS", "asn,city_name")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("GEOIP_FIELDS: city_name is not provided by any of the databases ({asn} (ASN))")
    );

    let error = with(&[("GEOIP_DATABASE", &city), ("GEOIP_LANGUAGE", "en;q=0.9")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "GEOIP_LANGUAGE: \"en;q=0.9\" is not a language code (such as en, de, pt-BR, zh-CN)"
    );

    // A language the databases do not declare stops init; case does not matter.
    let error = with(&[("GEOIP_DATABASE", &city), ("GEOIP_LANGUAGE", "xx")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "GEOIP_LANGUAGE: \"xx\" is not a language of the databases (they have de, en, es, fr, ja, pt-BR, ru, zh, zh-CN)"
    );
    let geoip = with(&[("GEOIP_DATABASE", &city), ("GEOIP_LANGUAGE", "DE")])
        .unwrap()
        .unwrap();
    assert_eq!(geoip.language(), "de");
    let geoip = with(&[("GEOIP_DATABASE", &city), ("GEOIP_LANGUAGE", "pt-br")])
        .unwrap()
        .unwrap();
    assert_eq!(geoip.language(), "pt-BR");

    // Defaults: the default fields the databases provide; English.
    let geoip = with(&[("GEOIP_DATABASE", &format!("{city}, {asn}"))])
        .unwrap()
        .unwrap();
    assert_eq!(geoip.fields(), FieldSet::DEFAULT);
    assert_eq!(geoip.language(), "en");
    let geoip = with(&[("GEOIP_DATABASE", &asn)]).unwrap().unwrap();
    assert_eq!(geoip.fields(), FieldSet::of(&[Field::Asn, Field::AsOrg]));
    let geoip = with(&[
        ("GEOIP_DATABASE", &city),
        ("GEOIP_FIELDS", "time_zone"),
        ("GEOIP_LANGUAGE", "de"),
    ])
    .unwrap()
    .unwrap();
    assert_eq!(geoip.fields(), FieldSet::of(&[Field::TimeZone]));
}

#[test]
fn a_full_verification_passes_on_the_test_databases() {
    let geoip = open(
        &["GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb"],
        FieldSet::ALL,
        "en",
    );
    geoip.verify().unwrap();
    let bad = GeoIp::builder()
        .database_as(
            fixture("bad/MaxMind-DB-test-broken-pointers-24.mmdb"),
            DatabaseKind::Asn,
        )
        .open()
        .unwrap();
    assert!(bad
        .verify()
        .unwrap_err()
        .to_string()
        .contains("failed verification"));
}

// ---------------------------------------------------------------------------
// The geoip-enrich blueprint, through the engine

mod blueprint {
    use super::fixture;
    use firehose_transform::blueprints::geoip::GeoIpEnrich;
    use firehose_transform::config::Settings;
    use firehose_transform::testing;
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    fn transform(extra: &[(&str, &str)]) -> GeoIpEnrich {
        let databases = format!(
            "{},{}",
            fixture("GeoIP2-City-Test.mmdb"),
            fixture("GeoLite2-ASN-Test.mmdb")
        );
        let mut pairs = vec![
            ("GEOIP_DATABASE".to_string(), databases),
            (
                "GEOIP_FIELDS".to_string(),
                "country_iso_code,city_name,asn".to_string(),
            ),
        ];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        GeoIpEnrich::from_settings(&Settings::from_pairs(pairs)).unwrap()
    }

    #[test]
    fn the_address_is_read_from_a_nested_field_and_the_geo_object_appended() {
        let transform = transform(&[("GEOIP_IP_FIELD", "source.client.ip")]);
        let record = r#"{"id":7, "source":{"client":{"ip":"89.160.20.112","port":443}},"msg":"a \"quoted\" é"}"#;
        let processed = testing::run(&transform, [record]);
        assert_eq!(
            processed.text(0),
            r#"{"id":7, "source":{"client":{"ip":"89.160.20.112","port":443}},"msg":"a \"quoted\" é","geo":{"country_iso_code":"SE","city_name":"Linköping","asn":29518}}"#
                .to_string()
                + "\n"
        );
        assert_eq!(processed.summary().counters["geoip.enriched"], 1);
    }

    #[test]
    fn each_object_of_a_newline_delimited_record_is_enriched() {
        let transform = transform(&[("GEOIP_IP_FIELD", "ip"), ("GEOIP_TARGET_FIELD", "where")]);
        let record = "{\"ip\":\"81.2.69.142\"}\r\n\n  {\"ip\":\"10.0.0.1\"}\n{\"ip\":\"::ffff:216.160.83.56\"}\n";
        let processed = testing::run(&transform, [record]);
        assert_eq!(
            processed.text(0),
            "{\"ip\":\"81.2.69.142\",\"where\":{\"country_iso_code\":\"GB\",\"city_name\":\"London\"}}\n\
             {\"ip\":\"10.0.0.1\"}\n\
             {\"ip\":\"::ffff:216.160.83.56\",\"where\":{\"country_iso_code\":\"US\",\"city_name\":\"Milton\",\"asn\":209}}\n"
        );
        let counters = &processed.summary().counters;
        assert_eq!(
            (counters["geoip.enriched"], counters["geoip.private"]),
            (2, 1)
        );
    }

    #[test]
    fn skipped_addresses_leave_objects_unchanged_and_are_counted_by_kind() {
        let transform = transform(&[("GEOIP_IP_FIELD", "ip")]);
        let records = [
            r#"{"ip":"127.0.0.1"}"#,
            r#"{"ip":"192.168.0.10"}"#,
            r#"{"ip":"fe80::1"}"#,
            r#"{"ip":"1.1.1.1"}"#,
            r#"{"ip":"999.1.1.1"}"#,
            r#"{"ip":""}"#,
            r#"{"ip":"81.2.69.142"}"#,
        ];
        let processed = testing::run(&transform, records);
        for (i, record) in records.iter().enumerate().take(6) {
            assert_eq!(processed.text(i), format!("{record}\n"));
        }
        let counters = &processed.summary().counters;
        let expected = [
            ("geoip.enriched", 1),
            ("geoip.invalid_address", 2),
            ("geoip.link_local", 1),
            ("geoip.loopback", 1),
            ("geoip.not_found", 1),
            ("geoip.private", 1),
        ];
        assert_eq!(
            counters.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            expected
        );
        assert_eq!(processed.summary().failed(), 0);
    }

    #[test]
    fn an_existing_target_member_is_replaced_not_duplicated() {
        let transform = transform(&[("GEOIP_IP_FIELD", "ip")]);
        let processed = testing::run(
            &transform,
            [r#"{"geo":{"stale":true},"ip":"81.2.69.142","g\u0065o":1,"n":1.50}"#],
        );
        assert_eq!(
            processed.text(0),
            "{\"ip\":\"81.2.69.142\",\"n\":1.50,\"geo\":{\"country_iso_code\":\"GB\",\"city_name\":\"London\"}}\n"
        );
    }

    #[test]
    fn invalid_records_fail_with_a_reason_by_default() {
        let transform = transform(&[("GEOIP_IP_FIELD", "client.ip")]);
        let records = [
            "not json",
            "[1,2]",
            r#"{"client":{}}"#,
            r#"{"client":"81.2.69.142"}"#,
            r#"{"client":{"ip":null}}"#,
            r#"{"client":{"ip":3}}"#,
            "{\"client\":{\"ip\":\"81.2.69.142\"}}\n{\"client\":",
            "",
            "\u{0}\u{ff}",
        ];
        let processed = testing::run(&transform, records);
        let failures: Vec<_> = (0..records.len())
            .map(|i| {
                let failure = processed.failure(i).expect("failed");
                (
                    failure.reason().to_string(),
                    failure.detail().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(failures[0].0, "record is not a JSON object");
        assert!(
            failures[0]
                .1
                .starts_with("line 1: expected ident at line 1 column 2"),
            "{}",
            failures[0].1
        );
        assert_eq!(failures[1].0, "record is not a JSON object");
        assert_eq!(
            failures[2],
            (
                "record lacks the address field".into(),
                "line 1: no client.ip".into()
            )
        );
        assert_eq!(
            failures[3],
            (
                "record lacks the address field".into(),
                "line 1: no client.ip".into()
            )
        );
        assert_eq!(
            failures[4],
            (
                "record lacks the address field".into(),
                "line 1: no client.ip".into()
            )
        );
        assert_eq!(
            failures[5],
            (
                "address field is not a string".into(),
                "line 1: client.ip is a number".into()
            )
        );
        assert_eq!(failures[6].0, "record is not a JSON object");
        assert!(failures[6].1.starts_with("line 2: "), "{}", failures[6].1);
        assert_eq!(
            failures[7],
            (
                "record is not a JSON object".into(),
                "the record is empty".into()
            )
        );
        assert_eq!(failures[8].0, "record is not a JSON object");
    }

    #[test]
    fn a_record_that_is_not_utf8_is_not_a_json_object() {
        let transform = transform(&[("GEOIP_IP_FIELD", "ip")]);
        let processed = testing::run(
            &transform,
            [&b"{\"ip\":\"81.2.69.142\",\"x\":\"\xff\"}"[..]],
        );
        let failure = processed.failure(0).expect("failed");
        assert_eq!(failure.reason(), "record is not a JSON object");
        assert_eq!(failure.detail(), Some("line 1: invalid UTF-8 at byte 25"));
    }

    #[test]
    fn invalid_records_pass_through_unchanged_when_configured() {
        let transform = transform(&[
            ("GEOIP_IP_FIELD", "ip"),
            ("GEOIP_PASS_INVALID_RECORDS", "true"),
        ]);
        let processed = testing::run(
            &transform,
            [
                "not json",
                "{\"x\":1}\n{\"ip\":\"81.2.69.142\"}",
                "{\"ip\":[]}\n",
            ],
        );
        assert_eq!(processed.text(0), "not json\n");
        assert_eq!(
            processed.text(1),
            "{\"x\":1}\n{\"ip\":\"81.2.69.142\",\"geo\":{\"country_iso_code\":\"GB\",\"city_name\":\"London\"}}\n"
        );
        // Unchanged to the byte: the engine sends the input's own base64 back.
        assert_eq!(processed.text(2), "{\"ip\":[]}\n");
        let counters = &processed.summary().counters;
        assert_eq!(counters["geoip.invalid_passed_through"], 3);
        assert_eq!(processed.summary().failed(), 0);
    }

    #[test]
    fn append_newline_false_leaves_the_last_object_unterminated() {
        let transform = transform(&[("GEOIP_IP_FIELD", "ip"), ("APPEND_NEWLINE", "false")]);
        let processed = testing::run(
            &transform,
            ["{\"ip\":\"10.0.0.1\"}\n{\"ip\":\"81.2.69.142\"}"],
        );
        assert_eq!(
            processed.text(0),
            "{\"ip\":\"10.0.0.1\"}\n{\"ip\":\"81.2.69.142\",\"geo\":{\"country_iso_code\":\"GB\",\"city_name\":\"London\"}}"
        );
    }

    #[test]
    fn settings_errors_name_the_variable() {
        let city = fixture("GeoIP2-City-Test.mmdb");
        let error = |pairs: &[(&str, &str)]| {
            GeoIpEnrich::from_settings(&Settings::from_pairs(pairs.iter().copied()))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error(&[("GEOIP_IP_FIELD", "ip")]),
            "GEOIP_DATABASE: is required but not set"
        );
        assert_eq!(
            error(&[("GEOIP_DATABASE", &city)]),
            "GEOIP_IP_FIELD: is required but not set"
        );
        assert_eq!(
            error(&[("GEOIP_DATABASE", &city), ("GEOIP_IP_FIELD", "client..ip")]),
            "GEOIP_IP_FIELD: \"client..ip\" is not a field path (names separated by single dots)"
        );
        assert_eq!(
            error(&[("GEOIP_DATABASE", &city), ("GEOIP_IP_FIELD", "ip"), ("GEOIP_TARGET_FIELD", "meta.geo")]),
            "GEOIP_TARGET_FIELD: \"meta.geo\": the target is a top-level member; nested targets are not supported"
        );
        assert_eq!(
            error(&[("GEOIP_DATABASE", &city), ("GEOIP_IP_FIELD", "client.ip"), ("GEOIP_TARGET_FIELD", "client")]),
            "GEOIP_TARGET_FIELD: \"client\" would replace the address field (GEOIP_IP_FIELD=client.ip)"
        );
        assert_eq!(
            error(&[
                ("GEOIP_DATABASE", &city),
                ("GEOIP_IP_FIELD", "ip"),
                ("GEOIP_PASS_INVALID_RECORDS", "maybe")
            ]),
            "GEOIP_PASS_INVALID_RECORDS: \"maybe\" is not a yes/no value (use true or false)"
        );
    }

    fn member_name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("ip".to_string()),
            Just("geo".to_string()),
            "[a-z\"\\\\é\\n]{0,6}"
        ]
    }

    fn member_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::from("81.2.69.142")),
            Just(Value::from("10.0.0.1")),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            "[ -~é\\n]{0,12}".prop_map(Value::from),
            Just(serde_json::json!({"ip": "2.125.160.216", "nested": [1, {"a": null}]})),
        ]
    }

    proptest! {
        /// Whatever the object, the output is one valid JSON object per line:
        /// the input's members (a `geo` member dropped when replaced) plus a
        /// `geo` object when the address was found, with no duplicate names.
        #[test]
        fn output_is_the_input_object_plus_geo(
            members in proptest::collection::vec((member_name(), member_value()), 0..8),
            spaced in any::<bool>(),
        ) {
            let transform = transform(&[("GEOIP_IP_FIELD", "ip"), ("GEOIP_PASS_INVALID_RECORDS", "true")]);
            let separator = if spaced { ", " } else { "," };
            let text = format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v))
                    .collect::<Vec<_>>()
                    .join(separator)
            );
            let processed = testing::run(&transform, [text.as_str()]);
            let output = processed.text(0);
            prop_assert!(output.ends_with('\n'));
            let line = output.trim_end_matches('\n');
            prop_assert!(!line.contains('\n'));
            // The last duplicate wins in serde_json, as in most readers.
            let input: Map<String, Value> = serde_json::from_str(&text).unwrap();
            let parsed: Map<String, Value> = serde_json::from_str(line).unwrap();
            let enriched = input.get("ip") == Some(&Value::from("81.2.69.142"));
            if enriched {
                let mut expected = input.clone();
                expected.insert(
                    "geo".into(),
                    serde_json::json!({"country_iso_code": "GB", "city_name": "London"}),
                );
                prop_assert_eq!(parsed, expected);
                // One `geo` member, whatever the input had.
                prop_assert_eq!(line.matches("\"geo\":").count(), 1, "{}", line);
            } else {
                prop_assert_eq!(line, text.as_str());
            }
        }
    }
}
