//! Writing files so that a reader sees the old file or the new one, never half of one.
//!
//! A file (or a path not there yet) is written to a temporary beside it, then renamed over it.
//! A symbolic link is followed, so that the link stays and its target gets the contents; a
//! path that is neither a file nor a directory (a pipe, a terminal, `/dev/null`), and any
//! path under `/dev` or `/proc` (`/dev/stdout`), is written in place, as there is nothing to
//! rename over: what was written before an error then stays. A directory is refused.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where a write to a path lands.
enum Destination {
    /// A regular file, or none yet: replaced whole through a temporary beside it.
    Replace(PathBuf),
    /// A pipe, a device or the like: written as it is.
    InPlace(PathBuf),
}

/// `path` with its symbolic links followed, and how it is written.
fn destination(path: &Path) -> io::Result<Destination> {
    // A process's own streams (`/dev/stdout`, `/proc/self/fd/1`) are written as they are even
    // when the shell sent them to a file: replacing it would leave the shell's handle on a
    // file no longer there.
    if path.starts_with("/dev") || path.starts_with("/proc") {
        return Ok(Destination::InPlace(path.to_owned()));
    }
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(io::Error::other("it is a directory")),
        Ok(meta) if meta.is_file() => Ok(Destination::Replace(
            fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
        )),
        Ok(_) => Ok(Destination::InPlace(path.to_owned())),
        // Nothing there: a link that leads nowhere yet is followed, so the file appears at
        // its target.
        Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::read_link(path) {
            Ok(target) => Ok(Destination::Replace(match path.parent() {
                Some(dir) if target.is_relative() => dir.join(target),
                _ => target,
            })),
            Err(_) => Ok(Destination::Replace(path.to_owned())),
        },
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, then renames it over `path`
/// (in place for a pipe or a device; see the module's notes).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file written in place of `path` through a temporary beside it: [`AtomicFile::commit`]
/// renames it over `path`; dropping it uncommitted (an error part-way) removes the temporary and
/// leaves `path` as it was. A pipe or a device is written directly, and what was written stays.
pub struct AtomicFile {
    /// The temporary and the path it is renamed to; none when written in place.
    rename: Option<(PathBuf, PathBuf)>,
    file: Option<io::BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file (or opens a pipe or a device for writing).
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let (file, rename) = match destination(path)? {
            // Appended to, not truncated: opening `/dev/stdout` afresh reopens the file a
            // shell's `>>` sent it to, whose contents stay.
            Destination::InPlace(path) => (
                fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path)?,
                None,
            ),
            Destination::Replace(path) => {
                let tmp = temporary(&path)?;
                (File::create(&tmp)?, Some((tmp, path)))
            }
        };
        Ok(AtomicFile {
            rename,
            file: Some(io::BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// Flushes, syncs and renames over the destination.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(writer) = self.file.take() else {
            return Ok(());
        };
        let rename = self.rename.take();
        let done = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|file| match &rename {
                Some((tmp, path)) => file.sync_all().and_then(|()| fs::rename(tmp, path)),
                None => Ok(()),
            });
        if let (Err(_), Some((tmp, _))) = (&done, &rename) {
            let _ = fs::remove_file(tmp);
        }
        done
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("the file was already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let (Some(_), Some((tmp, _))) = (self.file.take(), &self.rename) {
            let _ = fs::remove_file(tmp);
        }
    }
}

fn temporary(path: &Path) -> io::Result<PathBuf> {
    sibling(path, &format!("tmp-{}", std::process::id()))
}

/// Puts the finished directory `new` in place of `target`: `target` moves aside, `new` takes
/// its name, and the old one is removed. Work interrupted before this call leaves `target` as
/// it was. Two renames, not one (no portable atomic exchange of directories): between them,
/// for a moment, the old contents sit at `.NAME.old-PID` beside `target`.
pub fn replace_dir(new: &Path, target: &Path) -> io::Result<()> {
    let aside = sibling(target, &format!("old-{}", std::process::id()))?;
    let had_old = match fs::rename(target, &aside) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    if let Err(e) = fs::rename(new, target) {
        if had_old {
            let _ = fs::rename(&aside, target);
        }
        return Err(e);
    }
    if had_old {
        fs::remove_dir_all(&aside)?;
    }
    Ok(())
}

/// `dir/.name.tag` beside `path`: a hidden sibling for temporaries.
pub fn sibling(path: &Path, tag: &str) -> io::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path names no directory")
    })?;
    Ok(dir.join(format!(".{}.{tag}", name.to_string_lossy())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = crate::testutil::ScratchDir::new("atomic");
        let path = dir.join("out.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        assert!(write_atomic(&dir.join("missing/x"), b"").is_err());
    }

    #[test]
    fn an_uncommitted_file_leaves_the_old_one() {
        let dir = crate::testutil::ScratchDir::new("atomicfile");
        let path = dir.join("out.csv");
        fs::write(&path, "old").unwrap();
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"half").unwrap();
        } // dropped: an error part-way
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_stays_a_link_and_a_pipe_is_written_in_place() {
        let dir = crate::testutil::ScratchDir::new("atomiclink");
        let (target, link) = (dir.join("target.csv"), dir.join("link.csv"));
        fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink("target.csv", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new");
        // A link to a file not there yet: the file appears at its target.
        let (later, to_later) = (dir.join("later.csv"), dir.join("to-later.csv"));
        std::os::unix::fs::symlink("later.csv", &to_later).unwrap();
        write_atomic(&to_later, b"made").unwrap();
        assert!(fs::symlink_metadata(&to_later).unwrap().is_symlink());
        assert_eq!(fs::read(&later).unwrap(), b"made");
        // A named pipe: its reader gets the bytes, and it stays a pipe.
        let fifo = dir.join("answers.fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        let mut f = AtomicFile::create(&fifo).unwrap();
        f.write_all(b"through the pipe").unwrap();
        f.commit().unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(!fs::metadata(&fifo).unwrap().is_file());
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 5, "no temporary left: {names:?}");
    }

    #[test]
    fn a_directory_is_replaced_whole() {
        let root = crate::testutil::ScratchDir::new("replace");
        let (target, new) = (root.join("latest"), root.join("next"));
        fs::create_dir_all(&new).unwrap();
        fs::write(new.join("a"), "1").unwrap();
        replace_dir(&new, &target).unwrap();
        assert_eq!(fs::read_to_string(target.join("a")).unwrap(), "1");
        fs::create_dir_all(&new).unwrap();
        fs::write(new.join("b"), "2").unwrap();
        replace_dir(&new, &target).unwrap();
        assert!(!target.join("a").exists(), "the old contents are gone");
        assert_eq!(fs::read_to_string(target.join("b")).unwrap(), "2");
        let left: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["latest"]);
        // A missing new directory leaves the target as it was.
        assert!(replace_dir(&new, &target).is_err());
        assert_eq!(fs::read_to_string(target.join("b")).unwrap(), "2");
        fs::remove_dir_all(&root).unwrap();
    }
}
