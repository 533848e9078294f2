//! The Windows Event Log: registering the service's event source at install, and a `tracing`
//! layer that reports warnings and errors (and the service's own start and stop) to it.
//!
//! The source is registered with `%SystemRoot%\System32\EventCreate.exe` as its message file:
//! that file's message table maps event ids 1 to 1000 to the text "%1", so Event Viewer shows
//! our message as written, without shipping a compiled message resource.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::windows::ffi::OsStrExt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, HANDLE};
use windows_sys::Win32::System::EventLog::{
    DeregisterEventSource, EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE, EVENTLOG_WARNING_TYPE,
    REPORT_EVENT_TYPE, RegisterEventSourceW, ReportEventW,
};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_LOCAL_MACHINE, KEY_SET_VALUE, REG_DWORD, REG_EXPAND_SZ, REG_OPTION_NON_VOLATILE,
    RegCloseKey, RegCreateKeyExW, RegDeleteTreeW, RegSetValueExW,
};

const MESSAGE_FILE: &str = r"%SystemRoot%\System32\EventCreate.exe";

/// Event ids: EventCreate.exe's table maps each of 1..=1000 to "%1".
const EVENT_INFO: u32 = 1;
const EVENT_WARNING: u32 = 2;
const EVENT_ERROR: u32 = 3;

fn wide(s: &str) -> Vec<u16> {
    OsStr::new(s).encode_wide().chain(Some(0)).collect()
}

fn key_path(source: &str) -> String {
    format!(r"SYSTEM\CurrentControlSet\Services\EventLog\Application\{source}")
}

/// Register `source` under the Application log (needs administrator rights).
pub fn register_source(source: &str) -> Result<(), String> {
    let path = wide(&key_path(source));
    let mut key: HKEY = std::ptr::null_mut();
    // SAFETY: every pointer is to a live, NUL-terminated buffer or an out-parameter.
    let rc = unsafe {
        RegCreateKeyExW(
            HKEY_LOCAL_MACHINE,
            path.as_ptr(),
            0,
            std::ptr::null(),
            REG_OPTION_NON_VOLATILE,
            KEY_SET_VALUE,
            std::ptr::null(),
            &mut key,
            std::ptr::null_mut(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "cannot register the Event Log source {source} (error {rc})"
        ));
    }
    let file = wide(MESSAGE_FILE);
    let types: u32 = 7; // error, warning, information
    // SAFETY: `key` is open; data pointers and byte lengths describe live buffers.
    let rc = unsafe {
        let a = RegSetValueExW(
            key,
            wide("EventMessageFile").as_ptr(),
            0,
            REG_EXPAND_SZ,
            file.as_ptr().cast(),
            (file.len() * 2) as u32,
        );
        let b = RegSetValueExW(
            key,
            wide("TypesSupported").as_ptr(),
            0,
            REG_DWORD,
            (&types as *const u32).cast(),
            4,
        );
        RegCloseKey(key);
        if a != 0 { a } else { b }
    };
    match rc {
        0 => Ok(()),
        rc => Err(format!(
            "cannot describe the Event Log source {source} (error {rc})"
        )),
    }
}

/// Remove the source's registration; a source that is not registered is fine.
pub fn unregister_source(source: &str) -> Result<(), String> {
    let path = wide(&key_path(source));
    // SAFETY: a NUL-terminated path under a predefined key.
    let rc = unsafe { RegDeleteTreeW(HKEY_LOCAL_MACHINE, path.as_ptr()) };
    match rc {
        0 | ERROR_FILE_NOT_FOUND => Ok(()),
        rc => Err(format!(
            "cannot remove the Event Log source {source} (error {rc})"
        )),
    }
}

/// An open event source.
pub struct Source(HANDLE);

// SAFETY: an event log handle may be used from any thread (ReportEventW is thread-safe).
unsafe impl Send for Source {}
unsafe impl Sync for Source {}

impl Source {
    pub fn open(name: &str) -> Result<Source, String> {
        let n = wide(name);
        // SAFETY: a NUL-terminated name; a null server means this machine.
        let h = unsafe { RegisterEventSourceW(std::ptr::null(), n.as_ptr()) };
        if h.is_null() {
            return Err(format!("cannot open the Event Log source {name}"));
        }
        Ok(Source(h))
    }

    pub fn info(&self, message: &str) {
        self.report(EVENTLOG_INFORMATION_TYPE, EVENT_INFO, message);
    }

    pub fn error(&self, message: &str) {
        self.report(EVENTLOG_ERROR_TYPE, EVENT_ERROR, message);
    }

    fn report(&self, kind: REPORT_EVENT_TYPE, id: u32, message: &str) {
        // The Event Log caps one string at 31,839 characters.
        let text: String = message.chars().take(31_000).collect();
        let w = wide(&text);
        let strings = [w.as_ptr()];
        // SAFETY: one live NUL-terminated string; no binary data; no user SID.
        unsafe {
            ReportEventW(
                self.0,
                kind,
                0,
                id,
                std::ptr::null_mut(),
                1,
                0,
                strings.as_ptr(),
                std::ptr::null(),
            );
        }
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        // SAFETY: the handle came from RegisterEventSourceW and is closed once.
        unsafe {
            DeregisterEventSource(self.0);
        }
    }
}

/// Reports warnings and errors to the Event Log.
pub struct Layer {
    source: Source,
}

impl Layer {
    pub fn new(name: &str) -> Result<Layer, String> {
        Ok(Layer {
            source: Source::open(name)?,
        })
    }
}

/// The event's message and fields as one line of text.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for Layer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let (kind, id) = match *event.metadata().level() {
            Level::ERROR => (EVENTLOG_ERROR_TYPE, EVENT_ERROR),
            Level::WARN => (EVENTLOG_WARNING_TYPE, EVENT_WARNING),
            _ => return,
        };
        let mut text = Text::default();
        event.record(&mut text);
        self.source.report(kind, id, text.0.trim_start());
    }
}
