//! GeoIP enrichment from MaxMind DB files (GeoIP2 / GeoLite2 City, Country,
//! ASN, ISP and Enterprise, and compatible databases such as DB-IP's).
//!
//! [`GeoIp`] opens one or more `.mmdb` files once per execution environment,
//! memory-mapped, and answers lookups for IPv4, IPv6 and IPv4-mapped IPv6
//! (`::ffff:a.b.c.d`) addresses with the [`Field`]s it was configured for:
//!
//! | field | from | JSON type |
//! |---|---|---|
//! | `continent_code` | City, Country, Enterprise | string, e.g. `"EU"` |
//! | `country_iso_code` | City, Country, Enterprise | string, ISO 3166-1 alpha-2, e.g. `"GB"` |
//! | `country_name` | City, Country, Enterprise | string, in the configured language |
//! | `subdivision_iso_code` | City, Enterprise | string, ISO 3166-2 without the country, e.g. `"ENG"` |
//! | `subdivision_name` | City, Enterprise | string (the first, largest subdivision) |
//! | `city_name` | City, Enterprise | string |
//! | `postal_code` | City, Enterprise | string |
//! | `latitude`, `longitude` | City, Enterprise | number (degrees) |
//! | `accuracy_radius` | City, Enterprise | number (kilometres) |
//! | `time_zone` | City, Enterprise | string, IANA name, e.g. `"Europe/London"` |
//! | `asn` | ASN, ISP, Enterprise | number, e.g. `15169` |
//! | `as_org` | ASN, ISP, Enterprise | string, the AS organisation |
//!
//! Only the fields asked for are decoded: the record is read into a borrowed
//! struct of those members, every other value is skipped without being
//! decoded (nor its pointers followed), and names are read only in the
//! configured language and English. Many networks share a record, so each
//! database also keeps recently decoded records ([`GeoIpBuilder::record_cache`]).
//!
//! An address that is private, loopback, link-local or otherwise reserved,
//! one that does not parse, one the databases do not know, and one whose
//! record cannot be decoded (a corrupt database) is a [`Skip`]: the record
//! stays unenriched, and [`Skip::counter`] names a counter for the invocation
//! summary. None of them is a failure of the record.
//!
//! ```
//! use firehose_transform::enrich::geoip::{GeoIp, Skip};
//! use firehose_transform::formats::json::ObjectWriter;
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mmdb/GeoIP2-City-Test.mmdb");
//! let geoip = GeoIp::builder().database(path).open()?;
//!
//! let geo = geoip.lookup_str("81.2.69.142").unwrap();
//! assert_eq!(geo.city_name, Some("London"));
//! assert_eq!(geo.country_iso_code, Some("GB"));
//!
//! let mut out = Vec::new();
//! let mut record = ObjectWriter::new(&mut out);
//! geo.write_object(&mut record, "geo");
//! record.finish();
//! assert!(out.starts_with(br#"{"geo":{"continent_code":"EU","country_iso_code":"GB""#));
//!
//! assert_eq!(geoip.lookup_str("10.1.2.3").unwrap_err(), Skip::Private);
//! assert_eq!(geoip.lookup_str("10.1.2.3").unwrap_err().counter(), "geoip.private");
//! # Ok::<(), firehose_transform::enrich::geoip::GeoIpError>(())
//! ```

use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use maxminddb::{MaxMindDbError, Mmap, Reader};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::config::{ConfigError, Settings};
use crate::formats::json::ObjectWriter;

/// Setting: the database file(s), comma-separated (`/opt/GeoLite2-City.mmdb,/opt/GeoLite2-ASN.mmdb`).
/// Unset: no GeoIP enrichment.
pub const DATABASE: &str = "GEOIP_DATABASE";
/// Setting: the fields to add, comma-separated [`Field`] names; default [`FieldSet::DEFAULT`]
/// (those of them the databases provide).
pub const FIELDS: &str = "GEOIP_FIELDS";
/// Setting: the language of names (`en`, `de`, `es`, `fr`, `ja`, `pt-BR`, `ru`, `zh-CN` in
/// MaxMind's databases); default `en`. Names missing in it fall back to English.
pub const LANGUAGE: &str = "GEOIP_LANGUAGE";

/// Decoded records kept per database unless [`GeoIpBuilder::record_cache`]
/// says otherwise (about 165 KB per database).
pub const DEFAULT_CACHE_SLOTS: usize = 1024;

/// The longest language code accepted (MaxMind's are at most 5 bytes, `zh-CN`).
const MAX_LANGUAGE_LEN: usize = 15;

// ---------------------------------------------------------------------------
// Fields

/// One piece of GeoIP data that can be added to a record.
///
/// The [`name`](Field::name) is the member name in the output and in
/// `GEOIP_FIELDS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `continent_code`: two-letter continent code (`EU`, `NA`, ...).
    ContinentCode,
    /// `country_iso_code`: ISO 3166-1 alpha-2 country code.
    CountryIsoCode,
    /// `country_name`: country name in the configured language.
    CountryName,
    /// `subdivision_iso_code`: ISO 3166-2 code of the first subdivision, without the country prefix.
    SubdivisionIsoCode,
    /// `subdivision_name`: name of the first (largest) subdivision.
    SubdivisionName,
    /// `city_name`: city name in the configured language.
    CityName,
    /// `postal_code`: postal code.
    PostalCode,
    /// `latitude`: approximate latitude, degrees.
    Latitude,
    /// `longitude`: approximate longitude, degrees.
    Longitude,
    /// `accuracy_radius`: radius in kilometres around the coordinates where the address is likely.
    AccuracyRadius,
    /// `time_zone`: IANA time zone name.
    TimeZone,
    /// `asn`: autonomous system number.
    Asn,
    /// `as_org`: organisation of the autonomous system.
    AsOrg,
}

impl Field {
    /// Every field, in output order.
    pub const ALL: [Field; 13] = [
        Field::ContinentCode,
        Field::CountryIsoCode,
        Field::CountryName,
        Field::SubdivisionIsoCode,
        Field::SubdivisionName,
        Field::CityName,
        Field::PostalCode,
        Field::Latitude,
        Field::Longitude,
        Field::AccuracyRadius,
        Field::TimeZone,
        Field::Asn,
        Field::AsOrg,
    ];

    /// The member name in the output (and in `GEOIP_FIELDS`).
    pub fn name(self) -> &'static str {
        match self {
            Field::ContinentCode => "continent_code",
            Field::CountryIsoCode => "country_iso_code",
            Field::CountryName => "country_name",
            Field::SubdivisionIsoCode => "subdivision_iso_code",
            Field::SubdivisionName => "subdivision_name",
            Field::CityName => "city_name",
            Field::PostalCode => "postal_code",
            Field::Latitude => "latitude",
            Field::Longitude => "longitude",
            Field::AccuracyRadius => "accuracy_radius",
            Field::TimeZone => "time_zone",
            Field::Asn => "asn",
            Field::AsOrg => "as_org",
        }
    }

    /// The field with this [`name`](Field::name).
    ///
    /// ```
    /// use firehose_transform::enrich::geoip::Field;
    /// assert_eq!(Field::from_name("city_name"), Some(Field::CityName));
    /// assert_eq!(Field::from_name("city"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.name() == name)
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`Field`]s.
///
/// ```
/// use firehose_transform::enrich::geoip::{Field, FieldSet};
/// let set = FieldSet::parse("asn, as_org").unwrap();
/// assert!(set.contains(Field::Asn) && !set.contains(Field::CityName));
/// assert_eq!(FieldSet::parse("asn,town").unwrap_err(), "town");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FieldSet(u16);

impl FieldSet {
    /// No field.
    pub const EMPTY: FieldSet = FieldSet(0);
    /// Every field.
    pub const ALL: FieldSet = FieldSet((1 << Field::ALL.len()) - 1);
    /// The fields added when `GEOIP_FIELDS` is not set: continent code, country
    /// code and name, subdivision code and name, city name, latitude, longitude,
    /// ASN and AS organisation.
    pub const DEFAULT: FieldSet = FieldSet::of(&[
        Field::ContinentCode,
        Field::CountryIsoCode,
        Field::CountryName,
        Field::SubdivisionIsoCode,
        Field::SubdivisionName,
        Field::CityName,
        Field::Latitude,
        Field::Longitude,
        Field::Asn,
        Field::AsOrg,
    ]);

    /// The set of the given fields.
    pub const fn of(fields: &[Field]) -> FieldSet {
        let mut bits = 0;
        let mut i = 0;
        while i < fields.len() {
            bits |= 1 << fields[i] as u16;
            i += 1;
        }
        FieldSet(bits)
    }

    /// Parses a comma-separated list of field names; `Err` holds the first
    /// unknown name.
    pub fn parse(list: &str) -> Result<FieldSet, &str> {
        let mut set = FieldSet::EMPTY;
        for name in list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            set.insert(Field::from_name(name).ok_or(name)?);
        }
        Ok(set)
    }

    /// Whether `field` is in the set.
    pub fn contains(self, field: Field) -> bool {
        self.0 & field.bit() != 0
    }

    /// Whether any field of `other` is in the set.
    pub fn intersects(self, other: FieldSet) -> bool {
        self.0 & other.0 != 0
    }

    /// Adds `field`.
    pub fn insert(&mut self, field: Field) {
        self.0 |= field.bit();
    }

    /// The fields in both sets.
    pub const fn intersection(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 & other.0)
    }

    /// The fields of `self` not in `other`.
    pub const fn difference(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The fields, in output order.
    pub fn iter(self) -> impl Iterator<Item = Field> {
        Field::ALL
            .into_iter()
            .filter(move |field| self.contains(*field))
    }
}

impl fmt::Display for FieldSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(field.name())?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Database kinds

/// What a database holds, detected from its metadata `database_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatabaseKind {
    /// GeoIP2/GeoLite2 City (and DB-IP City): places and location.
    City,
    /// GeoIP2/GeoLite2 Country: continent and country.
    Country,
    /// GeoIP2 Enterprise: City data plus the autonomous system.
    Enterprise,
    /// GeoLite2 ASN: autonomous system number and organisation.
    Asn,
    /// GeoIP2 ISP: autonomous system number and organisation (and ISP names, not used).
    Isp,
}

impl DatabaseKind {
    /// The kind of a database from its `database_type` (`GeoLite2-City`,
    /// `GeoIP2-Enterprise`, `DBIP-Country-Lite`, ...), or `None` for a kind
    /// this enricher cannot use (Anonymous-IP, Domain, test databases...).
    ///
    /// ```
    /// use firehose_transform::enrich::geoip::DatabaseKind;
    /// assert_eq!(DatabaseKind::detect("GeoLite2-City"), Some(DatabaseKind::City));
    /// assert_eq!(DatabaseKind::detect("GeoIP2-ISP"), Some(DatabaseKind::Isp));
    /// assert_eq!(DatabaseKind::detect("GeoIP2-Anonymous-IP"), None);
    /// ```
    pub fn detect(database_type: &str) -> Option<DatabaseKind> {
        // Order matters: "GeoIP2-Enterprise" has City-shaped data and must win
        // over a substring match on other kinds.
        [
            ("Enterprise", DatabaseKind::Enterprise),
            ("City", DatabaseKind::City),
            ("Country", DatabaseKind::Country),
            ("ISP", DatabaseKind::Isp),
            ("ASN", DatabaseKind::Asn),
        ]
        .into_iter()
        .find(|(marker, _)| database_type.contains(marker))
        .map(|(_, kind)| kind)
    }

    /// The fields a database of this kind can provide.
    pub fn provides(self) -> FieldSet {
        const AS: FieldSet = FieldSet::of(&[Field::Asn, Field::AsOrg]);
        const COUNTRY: FieldSet = FieldSet::of(&[
            Field::ContinentCode,
            Field::CountryIsoCode,
            Field::CountryName,
        ]);
        const CITY: FieldSet = FieldSet::ALL.difference(AS);
        match self {
            DatabaseKind::City => CITY,
            DatabaseKind::Country => COUNTRY,
            DatabaseKind::Enterprise => FieldSet::ALL,
            DatabaseKind::Asn | DatabaseKind::Isp => AS,
        }
    }
}

impl fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DatabaseKind::City => "City",
            DatabaseKind::Country => "Country",
            DatabaseKind::Enterprise => "Enterprise",
            DatabaseKind::Asn => "ASN",
            DatabaseKind::Isp => "ISP",
        })
    }
}

// ---------------------------------------------------------------------------
// Skips

/// Why an address was not enriched. None of these fails the record; each is
/// [counted](Skip::counter) so the invocation summary says how many records
/// were left as they were, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// A private-use address: RFC 1918 (`10/8`, `172.16/12`, `192.168/16`),
    /// shared address space (`100.64/10`), unique local IPv6 (`fc00::/7`).
    Private,
    /// Loopback: `127/8`, `::1`.
    Loopback,
    /// Link-local: `169.254/16`, `fe80::/10`.
    LinkLocal,
    /// Any other special-purpose address that no database locates:
    /// unspecified, "this network" (`0/8`), multicast, broadcast and
    /// `240/4`, documentation and benchmarking ranges, IETF protocol
    /// assignments (`192.0.0/24`), discard-only (`100::/64`), site-local.
    Reserved,
    /// The text is not an IPv4 or IPv6 address.
    InvalidAddress,
    /// No database has data for the address (or none of the fields asked for).
    NotFound,
    /// A database's record for the address could not be decoded: the database
    /// is corrupt (or not of the layout its type claims).
    LookupError,
}

impl Skip {
    /// The counter name for the invocation summary (stable).
    ///
    /// ```
    /// use firehose_transform::enrich::geoip::Skip;
    /// assert_eq!(Skip::NotFound.counter(), "geoip.not_found");
    /// ```
    pub fn counter(self) -> &'static str {
        match self {
            Skip::Private => "geoip.private",
            Skip::Loopback => "geoip.loopback",
            Skip::LinkLocal => "geoip.link_local",
            Skip::Reserved => "geoip.reserved",
            Skip::InvalidAddress => "geoip.invalid_address",
            Skip::NotFound => "geoip.not_found",
            Skip::LookupError => "geoip.lookup_error",
        }
    }

    /// Whether `ip` is a special-purpose address no database locates, and
    /// which kind. IPv4-mapped IPv6 addresses are judged by their IPv4 address.
    ///
    /// ```
    /// use firehose_transform::enrich::geoip::Skip;
    /// assert_eq!(Skip::for_address("192.168.1.1".parse().unwrap()), Some(Skip::Private));
    /// assert_eq!(Skip::for_address("::ffff:127.0.0.1".parse().unwrap()), Some(Skip::Loopback));
    /// assert_eq!(Skip::for_address("fe80::1".parse().unwrap()), Some(Skip::LinkLocal));
    /// assert_eq!(Skip::for_address("2001:db8::1".parse().unwrap()), Some(Skip::Reserved));
    /// assert_eq!(Skip::for_address("81.2.69.142".parse().unwrap()), None);
    /// ```
    pub fn for_address(ip: IpAddr) -> Option<Skip> {
        match canonical(ip) {
            IpAddr::V4(v4) => special_v4(v4),
            IpAddr::V6(v6) => special_v6(v6),
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::Private => "private address",
            Skip::Loopback => "loopback address",
            Skip::LinkLocal => "link-local address",
            Skip::Reserved => "reserved address",
            Skip::InvalidAddress => "not an IP address",
            Skip::NotFound => "address not in the GeoIP databases",
            Skip::LookupError => "GeoIP database record could not be decoded",
        })
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d`; every other address unchanged.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<Skip> {
    let [a, b, c, _] = ip.octets();
    if ip.is_private() || (a == 100 && (b & 0xc0) == 64) {
        Some(Skip::Private)
    } else if ip.is_loopback() {
        Some(Skip::Loopback)
    } else if ip.is_link_local() {
        Some(Skip::LinkLocal)
    } else if a == 0
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || (a == 198 && (b & 0xfe) == 18)
    {
        Some(Skip::Reserved)
    } else {
        None
    }
}

fn special_v6(ip: Ipv6Addr) -> Option<Skip> {
    let segments = ip.segments();
    let first = segments[0];
    if ip.is_loopback() {
        Some(Skip::Loopback)
    } else if (first & 0xfe00) == 0xfc00 {
        Some(Skip::Private)
    } else if (first & 0xffc0) == 0xfe80 {
        Some(Skip::LinkLocal)
    } else if ip.is_unspecified()
        || (first & 0xff00) == 0xff00 // multicast
        || (first & 0xffc0) == 0xfec0 // deprecated site-local
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation
        || (first == 0x0100 && segments[1..4] == [0, 0, 0])
    // discard-only 100::/64
    {
        Some(Skip::Reserved)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// The result of a lookup

/// The GeoIP data found for one address: the fields asked for, where the
/// databases had them. Strings borrow from the memory-mapped database.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Geo<'a> {
    /// `continent_code`
    pub continent_code: Option<&'a str>,
    /// `country_iso_code`
    pub country_iso_code: Option<&'a str>,
    /// `country_name`
    pub country_name: Option<&'a str>,
    /// `subdivision_iso_code`
    pub subdivision_iso_code: Option<&'a str>,
    /// `subdivision_name`
    pub subdivision_name: Option<&'a str>,
    /// `city_name`
    pub city_name: Option<&'a str>,
    /// `postal_code`
    pub postal_code: Option<&'a str>,
    /// `latitude`
    pub latitude: Option<f64>,
    /// `longitude`
    pub longitude: Option<f64>,
    /// `accuracy_radius` (km)
    pub accuracy_radius: Option<u16>,
    /// `time_zone`
    pub time_zone: Option<&'a str>,
    /// `asn`
    pub asn: Option<u32>,
    /// `as_org`
    pub as_org: Option<&'a str>,
}

impl<'a> Geo<'a> {
    /// Whether no field has a value.
    pub fn is_empty(&self) -> bool {
        *self == Geo::default()
    }

    /// Writes each field that has a value as a member of `obj`, in
    /// [`Field::ALL`] order, under its [`Field::name`].
    pub fn write_members(&self, obj: &mut ObjectWriter<'_>) {
        let strings = [
            (Field::ContinentCode, self.continent_code),
            (Field::CountryIsoCode, self.country_iso_code),
            (Field::CountryName, self.country_name),
            (Field::SubdivisionIsoCode, self.subdivision_iso_code),
            (Field::SubdivisionName, self.subdivision_name),
            (Field::CityName, self.city_name),
            (Field::PostalCode, self.postal_code),
        ];
        for (field, value) in strings {
            if let Some(value) = value {
                obj.str(field.name(), value);
            }
        }
        if let Some(value) = self.latitude {
            obj.f64(Field::Latitude.name(), value);
        }
        if let Some(value) = self.longitude {
            obj.f64(Field::Longitude.name(), value);
        }
        if let Some(value) = self.accuracy_radius {
            obj.u64(Field::AccuracyRadius.name(), u64::from(value));
        }
        if let Some(value) = self.time_zone {
            obj.str(Field::TimeZone.name(), value);
        }
        if let Some(value) = self.asn {
            obj.u64(Field::Asn.name(), u64::from(value));
        }
        if let Some(value) = self.as_org {
            obj.str(Field::AsOrg.name(), value);
        }
    }

    /// Writes the fields as a nested object member `key` of `obj`.
    pub fn write_object(&self, obj: &mut ObjectWriter<'_>, key: &str) {
        let mut nested = obj.object(key);
        self.write_members(&mut nested);
        nested.finish();
    }

    /// The fields that have a value.
    pub fn present(&self) -> FieldSet {
        let mut set = FieldSet::EMPTY;
        let flags = [
            (Field::ContinentCode, self.continent_code.is_some()),
            (Field::CountryIsoCode, self.country_iso_code.is_some()),
            (Field::CountryName, self.country_name.is_some()),
            (
                Field::SubdivisionIsoCode,
                self.subdivision_iso_code.is_some(),
            ),
            (Field::SubdivisionName, self.subdivision_name.is_some()),
            (Field::CityName, self.city_name.is_some()),
            (Field::PostalCode, self.postal_code.is_some()),
            (Field::Latitude, self.latitude.is_some()),
            (Field::Longitude, self.longitude.is_some()),
            (Field::AccuracyRadius, self.accuracy_radius.is_some()),
            (Field::TimeZone, self.time_zone.is_some()),
            (Field::Asn, self.asn.is_some()),
            (Field::AsOrg, self.as_org.is_some()),
        ];
        for (field, present) in flags {
            if present {
                set.insert(field);
            }
        }
        set
    }

    /// Takes the values `self` lacks from `other` (each field comes from one
    /// database, so the two never both have a value).
    fn merge(&mut self, other: Geo<'a>) {
        self.continent_code = self.continent_code.or(other.continent_code);
        self.country_iso_code = self.country_iso_code.or(other.country_iso_code);
        self.country_name = self.country_name.or(other.country_name);
        self.subdivision_iso_code = self.subdivision_iso_code.or(other.subdivision_iso_code);
        self.subdivision_name = self.subdivision_name.or(other.subdivision_name);
        self.city_name = self.city_name.or(other.city_name);
        self.postal_code = self.postal_code.or(other.postal_code);
        self.latitude = self.latitude.or(other.latitude);
        self.longitude = self.longitude.or(other.longitude);
        self.accuracy_radius = self.accuracy_radius.or(other.accuracy_radius);
        self.time_zone = self.time_zone.or(other.time_zone);
        self.asn = self.asn.or(other.asn);
        self.as_org = self.as_org.or(other.as_org);
    }
}

// ---------------------------------------------------------------------------
// Errors

/// A database that cannot be used, or a configuration that does not fit the
/// databases. Its `Display` is one line naming the file and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeoIpError {
    /// The file cannot be opened or mapped, or is not a valid MaxMind DB.
    Database {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A field was asked for that none of the databases provides.
    FieldUnavailable {
        /// The field.
        field: Field,
        /// The databases given, as `path (type)`.
        databases: String,
    },
    /// The language is not a language code, or not one of those the
    /// databases declare in their metadata (`languages`).
    Language {
        /// The language asked for.
        language: String,
        /// What is wrong with it.
        problem: String,
    },
    /// No database was given.
    NoDatabase,
}

impl GeoIpError {
    /// The setting the error is about (for a [`ConfigError`]).
    pub fn variable(&self) -> &'static str {
        match self {
            GeoIpError::Database { .. } | GeoIpError::NoDatabase => DATABASE,
            GeoIpError::FieldUnavailable { .. } => FIELDS,
            GeoIpError::Language { .. } => LANGUAGE,
        }
    }

    fn database(path: &Path, problem: impl fmt::Display) -> GeoIpError {
        GeoIpError::Database {
            path: path.to_path_buf(),
            problem: one_line(&problem.to_string()),
        }
    }
}

impl fmt::Display for GeoIpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeoIpError::Database { path, problem } => write!(f, "{}: {problem}", path.display()),
            GeoIpError::FieldUnavailable { field, databases } => {
                write!(
                    f,
                    "{field} is not provided by any of the databases ({databases})"
                )
            }
            GeoIpError::Language { language, problem } => write!(f, "{language:?} {problem}"),
            GeoIpError::NoDatabase => f.write_str("no database given"),
        }
    }
}

impl std::error::Error for GeoIpError {}

impl From<GeoIpError> for ConfigError {
    fn from(error: GeoIpError) -> ConfigError {
        ConfigError::new(error.variable(), error)
    }
}

/// Error text from a dependency may contain line breaks; the runtime prints
/// configuration errors as one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn describe_open_error(error: MaxMindDbError) -> String {
    match error {
        MaxMindDbError::Io(error) => format!("cannot open: {error}"),
        MaxMindDbError::Mmap(error) => format!("cannot memory-map: {error}"),
        other => format!("not a valid MaxMind DB file ({other})"),
    }
}

// ---------------------------------------------------------------------------
// Opening

/// How to open a [`GeoIp`]: the databases, the fields, the language.
#[derive(Debug, Clone)]
pub struct GeoIpBuilder {
    databases: Vec<(PathBuf, Option<DatabaseKind>)>,
    fields: Option<FieldSet>,
    language: String,
    cache_slots: usize,
}

/// The locales MaxMind documents for the names of GeoIP2 and GeoLite2
/// databases.
pub const MAXMIND_LOCALES: &[&str] = &["de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"];

impl GeoIpBuilder {
    /// Adds a database file; its kind is detected from its metadata.
    /// Earlier databases take precedence for a field several provide.
    pub fn database(mut self, path: impl Into<PathBuf>) -> Self {
        self.databases.push((path.into(), None));
        self
    }

    /// Adds a database file read as `kind` whatever its metadata says (for
    /// home-made databases in a GeoIP2 layout).
    pub fn database_as(mut self, path: impl Into<PathBuf>, kind: DatabaseKind) -> Self {
        self.databases.push((path.into(), Some(kind)));
        self
    }

    /// The fields to look up. Without this, [`FieldSet::DEFAULT`] restricted
    /// to what the databases provide; with it, every field must be provided
    /// by some database.
    pub fn fields(mut self, fields: FieldSet) -> Self {
        self.fields = Some(fields);
        self
    }

    /// The language of names (default `en`); names missing in it are given in
    /// English.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }

    /// How many decoded records each database keeps, by their place in the
    /// file (default [`DEFAULT_CACHE_SLOTS`]; 0 turns the cache off). Many
    /// networks share one record (all of a city's point to the same one), so
    /// a lookup whose record was decoded recently skips decoding.
    pub fn record_cache(mut self, slots: usize) -> Self {
        self.cache_slots = slots;
        self
    }

    /// Opens (memory-maps) every database and checks the configuration
    /// against them.
    pub fn open(self) -> Result<GeoIp, GeoIpError> {
        if self.databases.is_empty() {
            return Err(GeoIpError::NoDatabase);
        }
        let lang = Lang::new(&self.language).ok_or_else(|| GeoIpError::Language {
            language: self.language.clone(),
            problem: "is not a language code (such as en, de, pt-BR, zh-CN)".to_string(),
        })?;

        let mut opened = Vec::with_capacity(self.databases.len());
        for (path, kind) in &self.databases {
            opened.push(Database::open(path, *kind, self.cache_slots)?);
        }

        // The language must be one the databases declare, or one of the
        // locales MaxMind documents for GeoIP2 and GeoLite2 (MaxMind's own
        // test databases declare only `en` and `zh` yet hold names in all of
        // them), matched in any case and spelled as listed: a typo would
        // otherwise give English names without a word. Databases without
        // names (ASN) declare none and are not asked.
        let mut declared: Vec<&str> = opened
            .iter()
            .flat_map(|db| db.reader.metadata().languages.iter().map(String::as_str))
            .collect();
        if !declared.is_empty() {
            declared.extend_from_slice(MAXMIND_LOCALES);
        }
        declared.sort_unstable();
        declared.dedup();
        let mut language = self.language.clone();
        let mut lang = lang;
        if !declared.is_empty() {
            match declared
                .iter()
                .find(|code| code.eq_ignore_ascii_case(self.language.trim()))
            {
                Some(code) => {
                    language = code.to_string();
                    lang = Lang::new(code).unwrap_or(lang);
                }
                None => {
                    return Err(GeoIpError::Language {
                        language: self.language.clone(),
                        problem: format!(
                            "is not a language of the databases (they have {})",
                            declared.join(", ")
                        ),
                    })
                }
            }
        }

        let available = opened.iter().fold(FieldSet::EMPTY, |set, db| {
            FieldSet(set.0 | db.kind.provides().0)
        });
        let fields = match self.fields {
            None => FieldSet::DEFAULT.intersection(available),
            Some(fields) => {
                if let Some(field) = fields.difference(available).iter().next() {
                    let databases = opened
                        .iter()
                        .map(|db| format!("{} ({})", db.path.display(), db.kind))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(GeoIpError::FieldUnavailable { field, databases });
                }
                fields
            }
        };

        // Each field comes from the first database that provides it; a
        // database left with nothing to provide is not consulted.
        let mut assigned = FieldSet::EMPTY;
        let mut databases = Vec::with_capacity(opened.len());
        for mut db in opened {
            db.plan = Plan {
                fields: fields.intersection(db.kind.provides()).difference(assigned),
                lang,
            };
            assigned = FieldSet(assigned.0 | db.plan.fields.0);
            if !db.plan.fields.is_empty() {
                databases.push(db);
            }
        }

        Ok(GeoIp {
            databases,
            fields,
            language,
        })
    }
}

/// What a [`GeoIp`] knows about one of its databases.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseInfo<'a> {
    /// The file as given.
    pub path: &'a Path,
    /// Its kind.
    pub kind: DatabaseKind,
    /// Its metadata `database_type`.
    pub database_type: &'a str,
    /// When it was built, in seconds since the Unix epoch (MaxMind's licence
    /// asks that databases be replaced within 30 days of an update).
    pub build_epoch: u64,
    /// The fields looked up in it.
    pub fields: FieldSet,
}

struct Database {
    path: PathBuf,
    kind: DatabaseKind,
    reader: Reader<Mapped>,
    /// The same mapping as the reader's, for the cache's string positions.
    map: Mapped,
    plan: Plan,
    cache: RecordCache,
}

/// A mapped database file, shared by the reader and the record cache.
#[derive(Clone)]
struct Mapped(Arc<Mmap>);

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Database {
    fn open(
        path: &Path,
        kind: Option<DatabaseKind>,
        cache_slots: usize,
    ) -> Result<Database, GeoIpError> {
        // Mapping a directory fails with an obscure errno (ENODEV): say it plainly.
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(GeoIpError::database(path, "is a directory, not a file"))
            }
            Ok(_) => {}
            Err(error) => return Err(GeoIpError::database(path, format!("cannot open: {error}"))),
        }
        let file = File::open(path)
            .map_err(|error| GeoIpError::database(path, format!("cannot open: {error}")))?;
        // SAFETY: mapping is unsafe because the mapping aliases the file: if
        // the file were truncated or rewritten in place while mapped, reads
        // could see changing bytes (which the reader does not expect) or fault
        // with SIGBUS. In Lambda the database lives in the deployment package
        // (/var/task) or a layer (/opt), both read-only file systems, so it
        // cannot change while the execution environment runs; a new database
        // arrives with a new deployment and new environments. Elsewhere,
        // replace a database by writing a new file and renaming it over the
        // old one (the mapping keeps the old inode alive), never by copying
        // over it in place. Everything read from the mapping is bounds-checked
        // by maxminddb and by the cache, so corrupt *contents* are errors, not
        // unsafety.
        let map = unsafe { Mmap::map(&file) }
            .map_err(|error| GeoIpError::database(path, format!("cannot memory-map: {error}")))?;
        let map = Mapped(Arc::new(map));
        let reader = Reader::from_source(map.clone())
            .map_err(|error| GeoIpError::database(path, describe_open_error(error)))?;
        let database_type = reader.metadata().database_type.clone();
        let kind = match kind.or_else(|| DatabaseKind::detect(&database_type)) {
            Some(kind) => kind,
            None => {
                return Err(GeoIpError::database(
                    path,
                    format!(
                        "database type {database_type:?} is not one GeoIP enrichment reads (City, Country, ASN, ISP or Enterprise)"
                    ),
                ))
            }
        };
        Ok(Database {
            path: path.to_path_buf(),
            kind,
            reader,
            map,
            plan: Plan::EMPTY,
            cache: RecordCache::new(cache_slots),
        })
    }

    /// The fields of the record at `offset` (in the data section), from the
    /// cache or decoded.
    fn record<'a>(
        &'a self,
        result: &maxminddb::LookupResult<'a, Mapped>,
    ) -> Result<Option<Geo<'a>>, Skip> {
        let Some(offset) = result.offset() else {
            return Ok(None);
        };
        let base = self.map.as_ref();
        if let Some(geo) = self.cache.get(offset, base) {
            return Ok(Some(geo));
        }
        PLAN.with(|plan| plan.set(self.plan));
        match result.decode::<Root<'_>>() {
            Ok(Some(Root(geo))) => {
                self.cache.put(offset, &geo, base);
                Ok(Some(geo))
            }
            Ok(None) => Ok(None),
            Err(_) => Err(Skip::LookupError),
        }
    }
}

/// Recently decoded records of one database, by data-section offset, in a
/// direct-mapped table. Strings are kept as positions in the mapped file and
/// sliced (and UTF-8 checked) again on a hit, so nothing borrows from the
/// cache itself. A plain `Mutex`: the engine runs one record at a time, so
/// it is never contended.
struct RecordCache {
    slots: Mutex<Vec<CachedRecord>>,
}

/// Where a string is in the mapped file.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

#[derive(Clone, Copy)]
struct CachedRecord {
    /// `usize::MAX` for an empty slot.
    offset: usize,
    strings: [Option<Span>; 9],
    latitude: Option<f64>,
    longitude: Option<f64>,
    accuracy_radius: Option<u16>,
    asn: Option<u32>,
}

impl RecordCache {
    fn new(slots: usize) -> RecordCache {
        let empty = CachedRecord {
            offset: usize::MAX,
            strings: [None; 9],
            latitude: None,
            longitude: None,
            accuracy_radius: None,
            asn: None,
        };
        RecordCache {
            slots: Mutex::new(vec![empty; slots]),
        }
    }

    fn slot(offset: usize, len: usize) -> Option<usize> {
        // Fibonacci hashing spreads offsets of records of similar sizes.
        (len > 0).then(|| (offset.wrapping_mul(0x9e37_79b9_7f4a_7c15_u64 as usize) >> 16) % len)
    }

    fn get<'a>(&self, offset: usize, base: &'a [u8]) -> Option<Geo<'a>> {
        let slots = self.slots.lock().ok()?;
        let cached = *slots.get(Self::slot(offset, slots.len())?)?;
        drop(slots);
        if cached.offset != offset {
            return None;
        }
        let mut strings = [None; 9];
        for (text, span) in strings.iter_mut().zip(cached.strings) {
            if let Some(span) = span {
                let start = span.start as usize;
                let bytes = base.get(start..start.checked_add(span.len as usize)?)?;
                *text = Some(std::str::from_utf8(bytes).ok()?);
            }
        }
        let [continent_code, country_iso_code, country_name, subdivision_iso_code, subdivision_name, city_name, postal_code, time_zone, as_org] =
            strings;
        Some(Geo {
            continent_code,
            country_iso_code,
            country_name,
            subdivision_iso_code,
            subdivision_name,
            city_name,
            postal_code,
            latitude: cached.latitude,
            longitude: cached.longitude,
            accuracy_radius: cached.accuracy_radius,
            time_zone,
            asn: cached.asn,
            as_org,
        })
    }

    fn put(&self, offset: usize, geo: &Geo<'_>, base: &[u8]) {
        let texts = [
            geo.continent_code,
            geo.country_iso_code,
            geo.country_name,
            geo.subdivision_iso_code,
            geo.subdivision_name,
            geo.city_name,
            geo.postal_code,
            geo.time_zone,
            geo.as_org,
        ];
        let mut strings = [None; 9];
        for (span, text) in strings.iter_mut().zip(texts) {
            if let Some(text) = text {
                // Decoded strings borrow from the mapping; anything else
                // (never expected) is simply not cached.
                let Some(start) = (text.as_ptr() as usize).checked_sub(base.as_ptr() as usize)
                else {
                    return;
                };
                if start
                    .checked_add(text.len())
                    .is_none_or(|end| end > base.len())
                {
                    return;
                }
                let (Ok(start), Ok(len)) = (u32::try_from(start), u32::try_from(text.len())) else {
                    return;
                };
                *span = Some(Span { start, len });
            }
        }
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        let Some(index) = Self::slot(offset, slots.len()) else {
            return;
        };
        if let Some(slot) = slots.get_mut(index) {
            *slot = CachedRecord {
                offset,
                strings,
                latitude: geo.latitude,
                longitude: geo.longitude,
                accuracy_radius: geo.accuracy_radius,
                asn: geo.asn,
            };
        }
    }
}

// ---------------------------------------------------------------------------
// The enricher

/// A GeoIP enricher over one or more memory-mapped MaxMind DB files.
///
/// Build it once per execution environment (it is `Send + Sync`; lookups take
/// `&self`), with [`GeoIp::from_settings`] or [`GeoIp::builder`].
pub struct GeoIp {
    databases: Vec<Database>,
    fields: FieldSet,
    language: String,
}

impl fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoIp")
            .field("databases", &self.databases().collect::<Vec<_>>())
            .field("fields", &self.fields)
            .field("language", &self.language)
            .finish()
    }
}

impl GeoIp {
    /// A builder: add databases, optionally fields and language, then `open`.
    pub fn builder() -> GeoIpBuilder {
        GeoIpBuilder {
            databases: Vec::new(),
            fields: None,
            language: "en".to_string(),
            cache_slots: DEFAULT_CACHE_SLOTS,
        }
    }

    /// The enricher configured by `GEOIP_DATABASE`, `GEOIP_FIELDS` and
    /// `GEOIP_LANGUAGE`, or `None` when `GEOIP_DATABASE` is not set. Any
    /// problem is a [`ConfigError`] naming the variable, and the file when
    /// it is about one.
    ///
    /// ```
    /// use firehose_transform::config::Settings;
    /// use firehose_transform::enrich::geoip::GeoIp;
    ///
    /// assert!(GeoIp::from_settings(&Settings::from_pairs([("X", "1")])).unwrap().is_none());
    ///
    /// let city = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mmdb/GeoIP2-City-Test.mmdb");
    /// let settings = Settings::from_pairs([("GEOIP_DATABASE", city), ("GEOIP_FIELDS", "city_name,asn")]);
    /// let error = GeoIp::from_settings(&settings).unwrap_err();
    /// assert_eq!(error.variable(), "GEOIP_FIELDS");
    /// assert!(error.problem().starts_with("asn is not provided by any of the databases"));
    /// ```
    pub fn from_settings(settings: &Settings) -> Result<Option<GeoIp>, ConfigError> {
        let paths = settings.list(DATABASE);
        if paths.is_empty() {
            return Ok(None);
        }
        let mut builder = paths
            .into_iter()
            .fold(GeoIp::builder(), GeoIpBuilder::database);
        if let Some(list) = settings.get(FIELDS) {
            let fields = FieldSet::parse(&list).map_err(|unknown| {
                ConfigError::new(
                    FIELDS,
                    format!("unknown field {unknown:?} (known: {})", FieldSet::ALL),
                )
            })?;
            if fields.is_empty() {
                return Err(ConfigError::new(FIELDS, "names no field"));
            }
            builder = builder.fields(fields);
        }
        if let Some(language) = settings.get(LANGUAGE) {
            builder = builder.language(language);
        }
        builder.open().map(Some).map_err(ConfigError::from)
    }

    /// The fields this enricher looks up.
    pub fn fields(&self) -> FieldSet {
        self.fields
    }

    /// The language of names.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The databases consulted, in order of precedence.
    pub fn databases(&self) -> impl Iterator<Item = DatabaseInfo<'_>> {
        self.databases.iter().map(|db| DatabaseInfo {
            path: &db.path,
            kind: db.kind,
            database_type: &db.reader.metadata().database_type,
            build_epoch: db.reader.metadata().build_epoch,
            fields: db.plan.fields,
        })
    }

    /// Walks every database completely (search tree and every record): slow
    /// (seconds for a full-size City database), for checking a freshly
    /// downloaded file rather than for every cold start.
    pub fn verify(&self) -> Result<(), GeoIpError> {
        for db in &self.databases {
            db.reader.verify().map_err(|error| {
                GeoIpError::database(&db.path, format!("failed verification: {error}"))
            })?;
        }
        Ok(())
    }

    /// Looks up an address given as text (`81.2.69.142`, `2001:db8::1`,
    /// `::ffff:81.2.69.142`).
    pub fn lookup_str(&self, address: &str) -> Result<Geo<'_>, Skip> {
        let ip: IpAddr = address.parse().map_err(|_| Skip::InvalidAddress)?;
        self.lookup(ip)
    }

    /// Looks up an address: the configured fields the databases have for it,
    /// or why there are none.
    pub fn lookup(&self, ip: IpAddr) -> Result<Geo<'_>, Skip> {
        let ip = canonical(ip);
        if let Some(skip) = Skip::for_address(ip) {
            return Err(skip);
        }
        let mut geo = Geo::default();
        for db in &self.databases {
            if ip.is_ipv6() && db.reader.metadata().ip_version == 4 {
                continue; // an IPv4-only database cannot know an IPv6 address
            }
            let result = db.reader.lookup(ip).map_err(|_| Skip::LookupError)?;
            if let Some(found) = db.record(&result)? {
                geo.merge(found);
            }
        }
        if geo.is_empty() {
            Err(Skip::NotFound)
        } else {
            Ok(geo)
        }
    }

    /// Looks up `address` and, when found, writes the fields as the nested
    /// object member `key` of `obj`; otherwise writes nothing and says why.
    pub fn enrich_object(
        &self,
        address: &str,
        obj: &mut ObjectWriter<'_>,
        key: &str,
    ) -> Result<(), Skip> {
        let geo = self.lookup_str(address)?;
        geo.write_object(obj, key);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Decoding only what is asked for
//
// `maxminddb::LookupResult::decode` takes a `Deserialize` type, not a
// `DeserializeSeed`, so the per-database plan (which fields, which language)
// reaches the root visitor through a thread-local `Cell`, set immediately
// before `decode` on the same thread; below the root it travels in seeds.
// The plan is `Copy`, so there is no borrow to outlive and no reentrancy.
//
// Stack depth: these visitors nest at most four containers deep (root map →
// subdivisions array → place map → names map), each level a distinct type, so
// recursion is bounded by the types whatever the data says; a pointer cycle
// can only make a requested value the wrong type (an error). Every value not
// asked for goes to `IgnoredAny`, which maxminddb skips without following
// pointers and with a depth limit of 128. Hence no stack overflow on cyclic or
// deeply nested data.

#[derive(Clone, Copy)]
struct Plan {
    fields: FieldSet,
    lang: Lang,
}

impl Plan {
    const EMPTY: Plan = Plan {
        fields: FieldSet::EMPTY,
        lang: Lang::EN,
    };
}

thread_local! {
    static PLAN: Cell<Plan> = const { Cell::new(Plan::EMPTY) };
}

/// A language code held inline, so that the plan is `Copy`.
#[derive(Clone, Copy)]
struct Lang {
    bytes: [u8; MAX_LANGUAGE_LEN],
    len: u8,
}

impl Lang {
    const EN: Lang = Lang {
        bytes: *b"en\0\0\0\0\0\0\0\0\0\0\0\0\0",
        len: 2,
    };

    fn new(code: &str) -> Option<Lang> {
        let valid = !code.is_empty()
            && code.len() <= MAX_LANGUAGE_LEN
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return None;
        }
        let mut bytes = [0u8; MAX_LANGUAGE_LEN];
        bytes
            .get_mut(..code.len())?
            .copy_from_slice(code.as_bytes());
        Some(Lang {
            bytes,
            len: code.len() as u8,
        })
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    fn is_en(&self) -> bool {
        self.as_bytes() == b"en"
    }
}

/// A map key, classified without copying.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    City,
    Continent,
    Country,
    Subdivisions,
    Location,
    Postal,
    Traits,
    AutonomousSystemNumber,
    AutonomousSystemOrganization,
    IsoCode,
    Code,
    Names,
    Latitude,
    Longitude,
    AccuracyRadius,
    TimeZone,
    Other,
}

impl Key {
    /// Compares against fixed-size arrays after dispatching on the length:
    /// that compiles to integer comparisons, where matching slices calls
    /// `memcmp` per candidate (a tenth of a lookup's time).
    #[inline(always)]
    fn classify(bytes: &[u8]) -> Key {
        fn exact<const N: usize>(bytes: &[u8]) -> [u8; N] {
            <[u8; N]>::try_from(bytes).unwrap_or([0; N])
        }
        match bytes.len() {
            4 => match &exact::<4>(bytes) {
                b"city" => Key::City,
                b"code" => Key::Code,
                _ => Key::Other,
            },
            5 => match &exact::<5>(bytes) {
                b"names" => Key::Names,
                _ => Key::Other,
            },
            6 => match &exact::<6>(bytes) {
                b"postal" => Key::Postal,
                b"traits" => Key::Traits,
                _ => Key::Other,
            },
            7 => match &exact::<7>(bytes) {
                b"country" => Key::Country,
                _ => Key::Other,
            },
            8 => match &exact::<8>(bytes) {
                b"location" => Key::Location,
                b"iso_code" => Key::IsoCode,
                b"latitude" => Key::Latitude,
                _ => Key::Other,
            },
            9 => match &exact::<9>(bytes) {
                b"continent" => Key::Continent,
                b"longitude" => Key::Longitude,
                b"time_zone" => Key::TimeZone,
                _ => Key::Other,
            },
            12 => match &exact::<12>(bytes) {
                b"subdivisions" => Key::Subdivisions,
                _ => Key::Other,
            },
            15 => match &exact::<15>(bytes) {
                b"accuracy_radius" => Key::AccuracyRadius,
                _ => Key::Other,
            },
            24 => match &exact::<24>(bytes) {
                b"autonomous_system_number" => Key::AutonomousSystemNumber,
                _ => Key::Other,
            },
            30 => match &exact::<30>(bytes) {
                b"autonomous_system_organization" => Key::AutonomousSystemOrganization,
                _ => Key::Other,
            },
            _ => Key::Other,
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key::classify(v.as_bytes()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key, E> {
                Ok(Key::classify(v))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// The root of a record, decoded per the thread's [`Plan`].
struct Root<'a>(Geo<'a>);

impl<'de> Deserialize<'de> for Root<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Root<'de>, D::Error> {
        let plan = PLAN.with(Cell::get);
        deserializer.deserialize_map(RootVisitor { plan }).map(Root)
    }
}

const COUNTRY_FIELDS: FieldSet = FieldSet::of(&[Field::CountryIsoCode, Field::CountryName]);
const SUBDIVISION_FIELDS: FieldSet =
    FieldSet::of(&[Field::SubdivisionIsoCode, Field::SubdivisionName]);
const LOCATION_FIELDS: FieldSet = FieldSet::of(&[
    Field::Latitude,
    Field::Longitude,
    Field::AccuracyRadius,
    Field::TimeZone,
]);
const AS_FIELDS: FieldSet = FieldSet::of(&[Field::Asn, Field::AsOrg]);

struct RootVisitor {
    plan: Plan,
}

impl<'de> Visitor<'de> for RootVisitor {
    type Value = Geo<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoIP record (map)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Geo<'de>, A::Error> {
        let fields = self.plan.fields;
        let lang = self.plan.lang;
        let mut geo = Geo::default();
        // The root is the last thing decoded, so it may be left unfinished:
        // once every wanted member has been read, the rest (registered and
        // represented country, traits...) is not even skipped. The AS fields
        // may be at the root or under `traits`, so they never end it early.
        let mut pending = if fields.intersects(AS_FIELDS) {
            u32::MAX
        } else {
            root_members(fields)
        };
        while let Some(key) = map.next_key::<Key>()? {
            pending &= !(1 << key as u32);
            match key {
                Key::City if fields.contains(Field::CityName) => {
                    let place = map.next_value_seed(PlaceSeed::names(lang))?;
                    geo.city_name = place.name;
                }
                Key::Continent if fields.contains(Field::ContinentCode) => {
                    let place = map.next_value_seed(PlaceSeed::code())?;
                    geo.continent_code = place.code;
                }
                Key::Country if fields.intersects(COUNTRY_FIELDS) => {
                    let seed = PlaceSeed::iso_and_names(
                        fields.contains(Field::CountryIsoCode),
                        fields.contains(Field::CountryName),
                        lang,
                    );
                    let place = map.next_value_seed(seed)?;
                    geo.country_iso_code = place.code;
                    geo.country_name = place.name;
                }
                Key::Subdivisions if fields.intersects(SUBDIVISION_FIELDS) => {
                    let seed = PlaceSeed::iso_and_names(
                        fields.contains(Field::SubdivisionIsoCode),
                        fields.contains(Field::SubdivisionName),
                        lang,
                    );
                    let place = map.next_value_seed(FirstSeed(seed))?;
                    geo.subdivision_iso_code = place.code;
                    geo.subdivision_name = place.name;
                }
                Key::Location if fields.intersects(LOCATION_FIELDS) => {
                    let location = map.next_value_seed(LocationSeed { fields })?;
                    geo.latitude = location.latitude;
                    geo.longitude = location.longitude;
                    geo.accuracy_radius = location.accuracy_radius;
                    geo.time_zone = location.time_zone;
                }
                Key::Postal if fields.contains(Field::PostalCode) => {
                    let place = map.next_value_seed(PlaceSeed::code())?;
                    geo.postal_code = place.code;
                }
                Key::Traits if fields.intersects(AS_FIELDS) => {
                    let (asn, as_org) = map.next_value_seed(AsSeed { fields })?;
                    geo.asn = asn;
                    geo.as_org = as_org;
                }
                Key::AutonomousSystemNumber if fields.contains(Field::Asn) => {
                    geo.asn = Some(map.next_value::<u32>()?);
                }
                Key::AutonomousSystemOrganization if fields.contains(Field::AsOrg) => {
                    geo.as_org = Some(map.next_value::<&'de str>()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if pending == 0 {
                break;
            }
        }
        Ok(geo)
    }
}

/// The root members holding `fields` (City-layout records), as bits by [`Key`].
fn root_members(fields: FieldSet) -> u32 {
    let groups = [
        (FieldSet::of(&[Field::CityName]), Key::City),
        (FieldSet::of(&[Field::ContinentCode]), Key::Continent),
        (COUNTRY_FIELDS, Key::Country),
        (SUBDIVISION_FIELDS, Key::Subdivisions),
        (LOCATION_FIELDS, Key::Location),
        (FieldSet::of(&[Field::PostalCode]), Key::Postal),
    ];
    groups
        .into_iter()
        .filter(|(group, _)| fields.intersects(*group))
        .fold(0, |bits, (_, key)| bits | 1 << key as u32)
}

/// A place (continent, country, subdivision, city, postal): its code and name.
#[derive(Default)]
struct Place<'a> {
    code: Option<&'a str>,
    name: Option<&'a str>,
}

#[derive(Clone, Copy)]
struct PlaceSeed {
    /// Which key holds the code: `iso_code`, `code`, or none wanted.
    code_key: Option<Key>,
    /// The language of the name, when a name is wanted.
    names: Option<Lang>,
}

impl PlaceSeed {
    fn names(lang: Lang) -> PlaceSeed {
        PlaceSeed {
            code_key: None,
            names: Some(lang),
        }
    }

    fn code() -> PlaceSeed {
        PlaceSeed {
            code_key: Some(Key::Code),
            names: None,
        }
    }

    fn iso_and_names(iso: bool, names: bool, lang: Lang) -> PlaceSeed {
        PlaceSeed {
            code_key: iso.then_some(Key::IsoCode),
            names: names.then_some(lang),
        }
    }
}

impl<'de> DeserializeSeed<'de> for PlaceSeed {
    type Value = Place<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Place<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PlaceSeed {
    type Value = Place<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a place (map)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Place<'de>, A::Error> {
        let mut place = Place::default();
        while let Some(key) = map.next_key::<Key>()? {
            match (key, self.names) {
                (Key::Names, Some(lang)) => place.name = map.next_value_seed(NamesSeed { lang })?,
                (key, _) if Some(key) == self.code_key => {
                    place.code = Some(map.next_value::<&'de str>()?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(place)
    }
}

/// `names`: the name in the wanted language, else in English.
#[derive(Clone, Copy)]
struct NamesSeed {
    lang: Lang,
}

impl<'de> DeserializeSeed<'de> for NamesSeed {
    type Value = Option<&'de str>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<&'de str>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for NamesSeed {
    type Value = Option<&'de str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("names by language (map)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<&'de str>, A::Error> {
        let wanted = self.lang.as_bytes();
        let english_is_wanted = self.lang.is_en();
        let mut name = None;
        let mut english = None;
        while let Some(key) = map.next_key_seed(LangKeySeed { wanted })? {
            match key {
                LangKey::Wanted => name = Some(map.next_value::<&'de str>()?),
                LangKey::English if !english_is_wanted => {
                    english = Some(map.next_value::<&'de str>()?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(name.or(english))
    }
}

enum LangKey {
    Wanted,
    English,
    Other,
}

struct LangKeySeed<'w> {
    wanted: &'w [u8],
}

impl<'de> DeserializeSeed<'de> for LangKeySeed<'_> {
    type Value = LangKey;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<LangKey, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for LangKeySeed<'_> {
    type Value = LangKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a language code")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<LangKey, E> {
        // Language codes are a few bytes: a loop beats a `memcmp` call.
        let same = |a: &[u8], b: &[u8]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y);
        Ok(if same(v, self.wanted) {
            LangKey::Wanted
        } else if same(v, b"en") {
            LangKey::English
        } else {
            LangKey::Other
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<LangKey, E> {
        self.visit_bytes(v.as_bytes())
    }
}

/// The first element of an array, decoded with the inner seed; the rest skipped.
struct FirstSeed(PlaceSeed);

impl<'de> DeserializeSeed<'de> for FirstSeed {
    type Value = Place<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Place<'de>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FirstSeed {
    type Value = Place<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of subdivisions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Place<'de>, A::Error> {
        let first = seq.next_element_seed(self.0)?.unwrap_or_default();
        // The decoder must be left after the whole array.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first)
    }
}

#[derive(Default)]
struct Location<'a> {
    latitude: Option<f64>,
    longitude: Option<f64>,
    accuracy_radius: Option<u16>,
    time_zone: Option<&'a str>,
}

struct LocationSeed {
    fields: FieldSet,
}

impl<'de> DeserializeSeed<'de> for LocationSeed {
    type Value = Location<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Location<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LocationSeed {
    type Value = Location<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a location (map)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Location<'de>, A::Error> {
        let fields = self.fields;
        let mut location = Location::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Latitude if fields.contains(Field::Latitude) => {
                    location.latitude = Some(map.next_value()?)
                }
                Key::Longitude if fields.contains(Field::Longitude) => {
                    location.longitude = Some(map.next_value()?)
                }
                Key::AccuracyRadius if fields.contains(Field::AccuracyRadius) => {
                    location.accuracy_radius = Some(map.next_value()?)
                }
                Key::TimeZone if fields.contains(Field::TimeZone) => {
                    location.time_zone = Some(map.next_value()?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(location)
    }
}

/// Enterprise `traits`: the autonomous system number and organisation.
struct AsSeed {
    fields: FieldSet,
}

impl<'de> DeserializeSeed<'de> for AsSeed {
    type Value = (Option<u32>, Option<&'de str>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AsSeed {
    type Value = (Option<u32>, Option<&'de str>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("traits (map)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut asn, mut org) = (None, None);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::AutonomousSystemNumber if self.fields.contains(Field::Asn) => {
                    asn = Some(map.next_value()?)
                }
                Key::AutonomousSystemOrganization if self.fields.contains(Field::AsOrg) => {
                    org = Some(map.next_value()?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((asn, org))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_round_trip_and_are_distinct() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
        assert_eq!(FieldSet::ALL.iter().count(), Field::ALL.len());
        assert_eq!(
            FieldSet::parse(&FieldSet::ALL.to_string()),
            Ok(FieldSet::ALL)
        );
    }

    #[test]
    fn kinds_are_detected_from_database_types_in_the_wild() {
        let cases = [
            ("GeoIP2-City", Some(DatabaseKind::City)),
            ("GeoLite2-City", Some(DatabaseKind::City)),
            ("DBIP-City-Lite", Some(DatabaseKind::City)),
            ("GeoIP2-Country", Some(DatabaseKind::Country)),
            ("GeoLite2-Country", Some(DatabaseKind::Country)),
            ("GeoIP2-Enterprise", Some(DatabaseKind::Enterprise)),
            ("GeoLite2-ASN", Some(DatabaseKind::Asn)),
            ("DBIP-ASN-Lite", Some(DatabaseKind::Asn)),
            ("GeoIP2-ISP", Some(DatabaseKind::Isp)),
            ("GeoIP2-Anonymous-IP", None),
            ("GeoIP2-Domain", None),
            ("Test", None),
        ];
        for (database_type, kind) in cases {
            assert_eq!(DatabaseKind::detect(database_type), kind, "{database_type}");
        }
    }

    #[test]
    fn special_addresses_are_classified_by_kind() {
        let cases = [
            ("10.0.0.1", Some(Skip::Private)),
            ("172.31.255.255", Some(Skip::Private)),
            ("192.168.0.1", Some(Skip::Private)),
            ("100.64.0.1", Some(Skip::Private)),
            ("100.128.0.1", None),
            ("fd12:3456::1", Some(Skip::Private)),
            ("127.0.0.1", Some(Skip::Loopback)),
            ("::1", Some(Skip::Loopback)),
            ("169.254.1.1", Some(Skip::LinkLocal)),
            ("fe80::1", Some(Skip::LinkLocal)),
            ("0.0.0.0", Some(Skip::Reserved)),
            ("::", Some(Skip::Reserved)),
            ("224.0.0.1", Some(Skip::Reserved)),
            ("255.255.255.255", Some(Skip::Reserved)),
            ("192.0.2.1", Some(Skip::Reserved)),
            ("198.51.100.1", Some(Skip::Reserved)),
            ("203.0.113.1", Some(Skip::Reserved)),
            ("198.19.0.1", Some(Skip::Reserved)),
            ("ff02::1", Some(Skip::Reserved)),
            ("2001:db8::1", Some(Skip::Reserved)),
            ("100::1", Some(Skip::Reserved)),
            ("::ffff:10.0.0.1", Some(Skip::Private)),
            ("8.8.8.8", None),
            ("2001:480:10::1", None),
            ("::ffff:81.2.69.142", None),
        ];
        for (text, expected) in cases {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(Skip::for_address(ip), expected, "{text}");
        }
    }

    #[test]
    fn language_codes_are_checked_for_shape() {
        assert!(Lang::new("zh-CN").is_some());
        assert!(Lang::new("en").unwrap().is_en());
        assert!(Lang::new("").is_none());
        assert!(Lang::new("a very long language").is_none());
        assert!(Lang::new("e\"n").is_none());
    }
}
