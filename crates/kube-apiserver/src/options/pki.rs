//! Self-generated PKI for a zero-configuration start: a CA, a serving
//! certificate, an admin client certificate and the service account key.
//!
//! Existing material is reused: the CA is never replaced once it exists;
//! leaf certificates are re-issued only when missing, unreadable, not issued
//! by the CA, not matching their key, expiring within 30 days, or (serving
//! certificate) when the wanted subject alternative names changed.
//!
//! Reading existing certificates needs a little DER: this file carries a
//! minimal reader for the X.509 fields we look at (no signature checks).

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::string::{Ia5String, PrintableString, TeletexString};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
    SerialNumber,
};

use super::OptionsError;

pub const CA_CERT: &str = "ca.crt";
pub const CA_KEY: &str = "ca.key";
pub const SERVING_CERT: &str = "apiserver.crt";
pub const SERVING_KEY: &str = "apiserver.key";
pub const ADMIN_CERT: &str = "admin.crt";
pub const ADMIN_KEY: &str = "admin.key";
pub const SA_KEY: &str = "sa.key";
pub const SA_PUB: &str = "sa.pub";

pub const CA_COMMON_NAME: &str = "kube-apiserver-ca";
pub const SERVING_COMMON_NAME: &str = "kube-apiserver";
pub const ADMIN_COMMON_NAME: &str = "kubernetes-admin";
pub const ADMIN_ORGANIZATION: &str = "system:masters";

const DAY: i64 = 24 * 3600;
const CA_VALIDITY_DAYS: i64 = 3650;
const LEAF_VALIDITY_DAYS: i64 = 365;
const RENEW_BEFORE_DAYS: i64 = 30;

fn pki_err(what: &str, e: impl std::fmt::Display) -> OptionsError {
    OptionsError::Pki(format!("{what}: {e}"))
}

// ---------------------------------------------------------------- base64/PEM

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Standard base64; whitespace ignored; `None` on bad input.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = 0;
    for c in text.bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return None;
        }
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (padding <= 2).then_some(out)
}

/// All `-----BEGIN <label>-----` blocks of a PEM text, as (label, DER).
pub fn pem_blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after[..label_end].to_string();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_start.find(&end_marker) else {
            break;
        };
        if let Some(der) = base64_decode(&body_start[..end]) {
            out.push((label, der));
        }
        rest = &body_start[end + end_marker.len()..];
    }
    out
}

/// DER of the first certificate in a PEM file.
fn first_cert_der(pem: &str) -> Option<Vec<u8>> {
    pem_blocks(pem)
        .into_iter()
        .find(|(l, _)| l == "CERTIFICATE")
        .map(|(_, d)| d)
}

// ---------------------------------------------------------------- DER reader

/// One DER TLV.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    /// The value bytes.
    content: &'a [u8],
    /// Tag, length and value.
    whole: &'a [u8],
}

/// Read one TLV; returns it and the remaining input.
fn tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*input.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    if end > input.len() {
        return None;
    }
    let t = Tlv {
        tag,
        content: &input[hdr..end],
        whole: &input[..end],
    };
    Some((t, &input[end..]))
}

/// The TLVs inside a constructed value.
fn children(mut content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (t, rest) = tlv(content)?;
        out.push(t);
        content = rest;
    }
    Some(out)
}

/// The parts of a certificate we look at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertInfo {
    /// Full DER encoding of the subject Name.
    pub subject: Vec<u8>,
    /// Full DER encoding of the issuer Name.
    pub issuer: Vec<u8>,
    /// Full DER encoding of the SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
}

const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

pub fn parse_cert(der: &[u8]) -> Option<CertInfo> {
    let (cert, _) = tlv(der)?;
    if cert.tag != 0x30 {
        return None;
    }
    let tbs = *children(cert.content)?.first()?;
    if tbs.tag != 0x30 {
        return None;
    }
    let mut fields = children(tbs.content)?.into_iter().peekable();
    if fields.peek().map(|f| f.tag) == Some(0xa0) {
        fields.next(); // version
    }
    let _serial = fields.next()?;
    let _sig_alg = fields.next()?;
    let issuer = fields.next()?;
    let validity = fields.next()?;
    let subject = fields.next()?;
    let spki = fields.next()?;
    let not_after = *children(validity.content)?.get(1)?;
    let mut info = CertInfo {
        subject: subject.whole.to_vec(),
        issuer: issuer.whole.to_vec(),
        spki: spki.whole.to_vec(),
        not_after: parse_time(not_after.tag, not_after.content)?,
        ..CertInfo::default()
    };
    for field in fields {
        if field.tag != 0xa3 {
            continue;
        }
        let (exts, _) = tlv(field.content)?;
        for ext in children(exts.content)? {
            let ext_fields = children(ext.content)?;
            if ext_fields.first()?.content != OID_SAN {
                continue;
            }
            let (names, _) = tlv(ext_fields.last()?.content)?;
            for name in children(names.content)? {
                let v = name.content;
                match (name.tag, v.len()) {
                    (0x82, _) => info.dns_names.push(String::from_utf8_lossy(v).into_owned()),
                    (0x87, 4) => info
                        .ip_addresses
                        .push(IpAddr::from(<[u8; 4]>::try_from(v).ok()?)),
                    (0x87, 16) => info
                        .ip_addresses
                        .push(IpAddr::from(<[u8; 16]>::try_from(v).ok()?).to_canonical()),
                    _ => {}
                }
            }
        }
    }
    Some(info)
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn parse_time(tag: u8, v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?.strip_suffix('Z')?;
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match tag {
        0x17 if s.len() == 12 => {
            let yy: i64 = s[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &s[2..])
        }
        0x18 if s.len() == 14 => (s[..4].parse().ok()?, &s[4..]),
        _ => return None,
    };
    let n = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
    let days = days_from_civil(year, n(0)?, n(2)?);
    Some(days * DAY + n(4)? * 3600 + n(6)? * 60 + n(8)?)
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day) for days since 1970-01-01.
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y as i32, m as u8, d as u8)
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Set a certificate's validity to whole UTC days around now.
fn set_validity(params: &mut CertificateParams, days: i64) {
    let now = now_unix();
    let (y, m, d) = civil_from_days((now - DAY).div_euclid(DAY));
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = civil_from_days((now + days * DAY).div_euclid(DAY));
    params.not_after = rcgen::date_time_ymd(y, m, d);
}

/// OID content bytes to arcs.
fn oid_arcs(bytes: &[u8]) -> Option<Vec<u64>> {
    let mut arcs = Vec::new();
    let mut v: u64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        v = v.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (v / 40).min(2);
                arcs.push(first);
                arcs.push(v - first * 40);
            } else {
                arcs.push(v);
            }
            v = 0;
        } else if i == bytes.len() - 1 {
            return None;
        }
    }
    Some(arcs)
}

/// Rebuild an rcgen name from a DER Name (one attribute per RDN, each
/// type once — what rcgen can encode). The caller checks the re-encoding.
fn dn_from_der(name: &[u8]) -> Option<DistinguishedName> {
    let (name, _) = tlv(name)?;
    let mut dn = DistinguishedName::new();
    for rdn in children(name.content)? {
        let attrs = children(rdn.content)?;
        if attrs.len() != 1 {
            return None;
        }
        let atv = children(attrs[0].content)?;
        let oid = atv.first()?.content;
        let value = *atv.get(1)?;
        let arcs = oid_arcs(oid)?;
        let ty = match arcs.as_slice() {
            [2, 5, 4, 3] => DnType::CommonName,
            [2, 5, 4, 6] => DnType::CountryName,
            [2, 5, 4, 7] => DnType::LocalityName,
            [2, 5, 4, 8] => DnType::StateOrProvinceName,
            [2, 5, 4, 10] => DnType::OrganizationName,
            [2, 5, 4, 11] => DnType::OrganizationalUnitName,
            _ => DnType::CustomDnType(arcs),
        };
        if dn.get(&ty).is_some() {
            return None;
        }
        let text = std::str::from_utf8(value.content).ok()?;
        let val = match value.tag {
            0x0c => DnValue::Utf8String(text.to_string()),
            0x13 => DnValue::PrintableString(PrintableString::try_from(text).ok()?),
            0x16 => DnValue::Ia5String(Ia5String::try_from(text).ok()?),
            0x14 => DnValue::TeletexString(TeletexString::try_from(text).ok()?),
            _ => return None,
        };
        dn.push(ty, val);
    }
    Some(dn)
}

// ---------------------------------------------------------------- file I/O

/// Write a file atomically (temp file + rename) with the given mode.
pub fn write_file(path: &Path, data: &[u8], mode: u32) -> Result<(), OptionsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let res = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(OptionsError::io("cannot write", path, e));
    }
    Ok(())
}

/// Read a file that may be missing (`Ok(None)`).
fn read_optional(path: &Path) -> Result<Option<String>, OptionsError> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(OptionsError::io("cannot read", path, e)),
    }
}

/// Create a directory (and parents) with the given mode for new ones.
pub fn ensure_dir(path: &Path, mode: u32) -> Result<(), OptionsError> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .map_err(|e| OptionsError::io("cannot create directory", path, e))
}

static SERIAL_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A unique positive 16-byte serial (time, process id and a counter).
fn fresh_serial() -> SerialNumber {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mix = (nanos << 32)
        ^ (u128::from(std::process::id()) << 16)
        ^ u128::from(SERIAL_COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut bytes = mix.to_be_bytes();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

// ---------------------------------------------------------------- CA

/// A CA that can sign: its PEM, parsed info and signer.
pub struct Ca {
    pub cert_pem: String,
    pub info: CertInfo,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn sign(
        &self,
        params: &CertificateParams,
        key: &KeyPair,
    ) -> Result<(String, CertInfo), OptionsError> {
        let cert = params
            .signed_by(key, &self.issuer)
            .map_err(|e| pki_err("cannot sign certificate", e))?;
        let info = parse_cert(cert.der())
            .ok_or_else(|| OptionsError::Pki("cannot parse a freshly issued certificate".into()))?;
        if info.issuer != self.info.subject {
            return Err(OptionsError::Pki(
                "the CA's subject name cannot be reproduced exactly; use a CA whose subject has \
                 one attribute per RDN and string types UTF8/Printable/IA5"
                    .into(),
            ));
        }
        Ok((cert.pem(), info))
    }

    /// Whether `info` was issued by this CA (name match; the signature is
    /// not verified) and is not expiring.
    fn issued(&self, info: &CertInfo) -> bool {
        info.issuer == self.info.subject && !expiring(info)
    }
}

fn expiring(info: &CertInfo) -> bool {
    info.not_after < now_unix() + RENEW_BEFORE_DAYS * DAY
}

/// Load `ca.crt`/`ca.key` from `dir`, or create them when both are absent.
/// Returns the CA and whether it was created now.
pub fn load_or_create_ca(dir: &Path) -> Result<(Ca, bool), OptionsError> {
    let cert_path = dir.join(CA_CERT);
    let key_path = dir.join(CA_KEY);
    let cert = read_optional(&cert_path)?;
    let key = read_optional(&key_path)?;
    match (cert, key) {
        (Some(cert_pem), Some(key_pem)) => {
            let key = KeyPair::from_pem(&key_pem)
                .map_err(|e| pki_err(&format!("cannot load CA key {}", key_path.display()), e))?;
            let der = first_cert_der(&cert_pem).ok_or_else(|| {
                OptionsError::Pki(format!("{} holds no certificate", cert_path.display()))
            })?;
            let info = parse_cert(&der).ok_or_else(|| {
                OptionsError::Pki(format!(
                    "cannot parse CA certificate {}",
                    cert_path.display()
                ))
            })?;
            if info.spki != key.subject_public_key_info() {
                return Err(OptionsError::Pki(format!(
                    "{} does not match {}",
                    key_path.display(),
                    cert_path.display()
                )));
            }
            if info.not_after < now_unix() {
                tracing::warn!(path = %cert_path.display(), "the CA certificate has expired");
            }
            let dn = dn_from_der(&info.subject).ok_or_else(|| {
                OptionsError::Pki(format!(
                    "cannot reuse CA {}: unsupported subject name encoding",
                    cert_path.display()
                ))
            })?;
            let mut params = CertificateParams::default();
            params.distinguished_name = dn;
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            Ok((
                Ca {
                    cert_pem,
                    info,
                    issuer: Issuer::new(params, key),
                },
                false,
            ))
        }
        (None, None) => {
            let key = KeyPair::generate().map_err(|e| pki_err("cannot generate CA key", e))?;
            let mut params = CertificateParams::default();
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, CA_COMMON_NAME);
            params.distinguished_name = dn;
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
            ];
            params.serial_number = Some(fresh_serial());
            set_validity(&mut params, CA_VALIDITY_DAYS);
            let cert = params
                .self_signed(&key)
                .map_err(|e| pki_err("cannot create CA certificate", e))?;
            let info = parse_cert(cert.der())
                .ok_or_else(|| OptionsError::Pki("cannot parse the new CA certificate".into()))?;
            write_file(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
            let cert_pem = cert.pem();
            write_file(&cert_path, cert_pem.as_bytes(), 0o644)?;
            Ok((
                Ca {
                    cert_pem,
                    info,
                    issuer: Issuer::new(params, key),
                },
                true,
            ))
        }
        (Some(_), None) => Err(OptionsError::Pki(format!(
            "{} exists but {} is missing; restore the key or remove both to generate a new CA",
            cert_path.display(),
            key_path.display()
        ))),
        (None, Some(_)) => Err(OptionsError::Pki(format!(
            "{} exists but {} is missing; restore the certificate or remove both to generate a \
             new CA",
            key_path.display(),
            cert_path.display()
        ))),
    }
}

// ---------------------------------------------------------------- leaves

/// What a leaf certificate should contain.
pub struct LeafSpec {
    pub common_name: String,
    pub organizations: Vec<String>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub server: bool,
    pub client: bool,
}

/// Load the key at `key_path` if usable, else generate one (not written).
fn load_or_generate_key(key_path: &Path) -> Result<(KeyPair, bool), OptionsError> {
    if let Some(pem) = read_optional(key_path)? {
        if let Ok(k) = KeyPair::from_pem(&pem) {
            return Ok((k, false));
        }
        tracing::warn!(path = %key_path.display(), "unreadable private key; generating a new one");
    }
    Ok((
        KeyPair::generate().map_err(|e| pki_err("cannot generate key", e))?,
        true,
    ))
}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

/// Ensure `<dir>/<cert_name>` and `<dir>/<key_name>` hold a certificate
/// for `spec` issued by `ca`. Returns true when (re)issued.
pub fn ensure_leaf(
    ca: &Ca,
    dir: &Path,
    cert_name: &str,
    key_name: &str,
    spec: &LeafSpec,
    check_sans: bool,
) -> Result<bool, OptionsError> {
    let cert_path = dir.join(cert_name);
    let key_path = dir.join(key_name);
    let (key, key_is_new) = load_or_generate_key(&key_path)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    for o in &spec.organizations {
        dn.push(DnType::OrganizationName, o.as_str());
    }
    dn.push(DnType::CommonName, spec.common_name.as_str());
    params.distinguished_name = dn;
    for name in &spec.dns_names {
        let ia5 = Ia5String::try_from(name.as_str())
            .map_err(|e| pki_err(&format!("invalid DNS name {name:?}"), e))?;
        params.subject_alt_names.push(SanType::DnsName(ia5));
    }
    for ip in &spec.ip_addresses {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    if spec.server {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
    }
    if spec.client {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ClientAuth);
    }

    if !key_is_new {
        if let Some(pem) = read_optional(&cert_path)? {
            let current = first_cert_der(&pem).and_then(|d| parse_cert(&d));
            if let Some(info) = current {
                // Compare the subject through a throw-away encoding of ours.
                let wanted_subject = {
                    let mut probe = params.clone();
                    probe.subject_alt_names.clear();
                    probe
                        .self_signed(&key)
                        .ok()
                        .and_then(|c| parse_cert(c.der()))
                        .map(|i| i.subject)
                };
                let sans_ok = !check_sans
                    || (sorted(&info.dns_names) == sorted(&spec.dns_names)
                        && sorted(&info.ip_addresses) == sorted(&spec.ip_addresses));
                if ca.issued(&info)
                    && info.spki == key.subject_public_key_info()
                    && wanted_subject.as_deref() == Some(info.subject.as_slice())
                    && sans_ok
                {
                    return Ok(false);
                }
            }
        }
    }

    params.serial_number = Some(fresh_serial());
    set_validity(&mut params, LEAF_VALIDITY_DAYS);
    let (pem, _) = ca.sign(&params, &key)?;
    if key_is_new {
        write_file(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
    } else {
        // Keep existing keys private even if they were created elsewhere.
        let _ = fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600));
    }
    write_file(&cert_path, pem.as_bytes(), 0o644)?;
    Ok(true)
}

/// Ensure a service account signing key (`sa.key`, ECDSA P-256 for ES256 tokens, PKCS#8)
/// and its public key (`sa.pub`) exist in `dir`. Returns (key path, pub path). Upstream
/// accepts RSA and ECDSA keys; an EC key is made in microseconds where RSA 2048 takes tens
/// of milliseconds of start-up. An existing key of either kind is used as it is.
pub fn ensure_service_account_key(dir: &Path) -> Result<(PathBuf, PathBuf), OptionsError> {
    let key_path = dir.join(SA_KEY);
    let pub_path = dir.join(SA_PUB);
    let key = match read_optional(&key_path)? {
        Some(pem) => KeyPair::from_pem(&pem).map_err(|e| {
            pki_err(
                &format!("cannot load service account key {}", key_path.display()),
                e,
            )
        })?,
        None => {
            let k = KeyPair::generate()
                .map_err(|e| pki_err("cannot generate service account key", e))?;
            write_file(&key_path, k.serialize_pem().as_bytes(), 0o600)?;
            k
        }
    };
    let public = key.public_key_pem();
    if read_optional(&pub_path)?.as_deref() != Some(public.as_str()) {
        write_file(&pub_path, public.as_bytes(), 0o644)?;
    }
    Ok((key_path, pub_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_roundtrip() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            let enc = base64_encode(data);
            assert_eq!(base64_decode(&enc).as_deref(), Some(data));
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert!(base64_decode("Zm9v!").is_none());
    }

    #[test]
    fn civil_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(
            civil_from_days(days_from_civil(2099, 12, 31)),
            (2099, 12, 31)
        );
    }

    #[test]
    fn parser_never_panics_on_damaged_input() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, _) = load_or_create_ca(dir.path()).unwrap();
        let der = first_cert_der(&ca.cert_pem).unwrap();
        assert!(parse_cert(&der).is_some());
        for len in 0..der.len() {
            let _ = parse_cert(&der[..len]);
        }
        for i in 0..der.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut d = der.clone();
                d[i] ^= flip;
                let _ = parse_cert(&d);
                let _ = dn_from_der(&d);
            }
        }
        assert!(pem_blocks("-----BEGIN CERTIFICATE-----\nnot base64!\n").is_empty());
    }

    #[test]
    fn reuses_a_foreign_ca() {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::OrganizationName,
            DnValue::PrintableString(PrintableString::try_from("Acme Corp").unwrap()),
        );
        dn.push(DnType::CommonName, "acme-ca");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        write_file(&dir.path().join(CA_CERT), cert.pem().as_bytes(), 0o644).unwrap();
        write_file(
            &dir.path().join(CA_KEY),
            key.serialize_pem().as_bytes(),
            0o600,
        )
        .unwrap();

        let (ca, created) = load_or_create_ca(dir.path()).unwrap();
        assert!(!created);
        let spec = LeafSpec {
            common_name: "leaf".into(),
            organizations: vec![],
            dns_names: vec!["localhost".into()],
            ip_addresses: vec![],
            server: true,
            client: false,
        };
        assert!(ensure_leaf(&ca, dir.path(), "leaf.crt", "leaf.key", &spec, true).unwrap());
        let leaf = parse_cert(
            &first_cert_der(&fs::read_to_string(dir.path().join("leaf.crt")).unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(leaf.issuer, ca.info.subject);
        assert_eq!(leaf.dns_names, ["localhost"]);
        // Unchanged spec: kept.
        assert!(!ensure_leaf(&ca, dir.path(), "leaf.crt", "leaf.key", &spec, true).unwrap());
        // A key that does not match the CA certificate is rejected.
        let other = KeyPair::generate().unwrap();
        write_file(
            &dir.path().join(CA_KEY),
            other.serialize_pem().as_bytes(),
            0o600,
        )
        .unwrap();
        assert!(load_or_create_ca(dir.path()).is_err());
    }

    #[test]
    fn oid_decoding() {
        assert_eq!(oid_arcs(&[0x55, 0x04, 0x03]), Some(vec![2, 5, 4, 3]));
        assert_eq!(
            oid_arcs(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            Some(vec![1, 2, 840, 113549])
        );
    }
}
