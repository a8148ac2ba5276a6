//! Where the worker binary is: the layout an Electron packager ships is the addon and
//! `bds-worker` (with `bds_guest.wasm`) side by side in one folder.

use std::path::PathBuf;

/// The worker to start: `explicit` (the `workerPath` option), else none when `$BDS_WORKER` is
/// set (the engine reads it), else `bds-worker` beside this addon's file when it is there, else
/// none (the engine then looks beside the Node or Electron executable and says where it looked).
pub(crate) fn worker(explicit: Option<&str>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(PathBuf::from(p));
    }
    if std::env::var_os("BDS_WORKER").is_some() {
        return None;
    }
    let candidate = addon_dir()?.join(format!("bds-worker{}", std::env::consts::EXE_SUFFIX));
    candidate.is_file().then_some(candidate)
}

/// The folder of the shared library this code was loaded from.
#[cfg(unix)]
pub(crate) fn addon_dir() -> Option<PathBuf> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;

    // SAFETY: `Dl_info` is plain data; zeroed is a valid initial value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let here = addon_dir as *const libc::c_void;
    // SAFETY: `here` is an address inside this library; `info` is a valid out-pointer.
    if unsafe { libc::dladdr(here, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr succeeded, so `dli_fname` is a NUL-terminated path owned by the loader.
    let file = unsafe { CStr::from_ptr(info.dli_fname) };
    let file = PathBuf::from(std::ffi::OsStr::from_bytes(file.to_bytes()));
    file.parent().map(PathBuf::from)
}

/// Not implemented outside unix: pass `workerPath` or set `BDS_WORKER` there.
#[cfg(not(unix))]
pub(crate) fn addon_dir() -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(unix)]
    fn finds_the_folder_of_the_loaded_code() {
        // In a unit test the code lives in the test executable itself.
        let exe = std::env::current_exe().unwrap();
        let dir = super::addon_dir().unwrap();
        assert_eq!(
            dir.canonicalize().unwrap(),
            exe.parent().unwrap().canonicalize().unwrap()
        );
    }
}
