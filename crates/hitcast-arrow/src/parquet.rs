//! Parquet files: tracks read through [`ArrowRows`] in the reader's batches, and answers written
//! atomically (zstd-compressed), so a failed run leaves no half-written file.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use hitcast::data::{DataError, DefaultUsed, RawRow, ReadOptions, RowSource};
use hitcast::fsutil::AtomicFile;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use crate::rows::ArrowRows;

/// The first bytes of every Parquet file.
const MAGIC: &[u8; 4] = b"PAR1";

/// Whether the file at `path` starts as a Parquet file does (CSV never does).
pub fn is_parquet(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == MAGIC)
}

/// The rows of a file of tracks: Parquet when it starts as one, else CSV (plain or gzipped),
/// validated alike.
pub fn open_rows(
    path: &Path,
    options: &ReadOptions,
) -> Result<Box<dyn hitcast::data::RowSource + Send>, DataError> {
    Ok(if is_parquet(path) {
        Box::new(ParquetRows::open(path, options)?)
    } else {
        Box::new(hitcast::data::RowReader::open(path, options)?)
    })
}

/// Reads and validates every row of a table of tracks, Parquet or CSV as [`open_rows`] tells.
pub fn read_file(path: &Path, options: &ReadOptions) -> Result<hitcast::data::Loaded, DataError> {
    if is_parquet(path) {
        hitcast::data::read_all(ParquetRows::open(path, options)?, options.on_error)
    } else {
        hitcast::data::read_rows(path, options)
    }
}

/// Rows of a Parquet file, validated as a CSV's are, read one record batch at a time.
pub struct ParquetRows {
    batches: ParquetRecordBatchReader,
    rows: ArrowRows,
    pending: VecDeque<Result<RawRow, DataError>>,
    done: bool,
}

impl ParquetRows {
    /// Opens the file and matches its columns.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<ParquetRows, DataError> {
        let unreadable = |e: ParquetError| DataError::Unreadable {
            path: path.to_owned(),
            what: "Parquet",
            source: Box::new(e),
        };
        if path.is_dir() {
            return Err(DataError::Open {
                path: path.to_owned(),
                source: io::Error::other("it is a directory"),
            });
        }
        let file = File::open(path).map_err(|source| DataError::Open {
            path: path.to_owned(),
            source,
        })?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(unreadable)?;
        let rows = ArrowRows::new(builder.schema(), options, path)?;
        let batches = builder.with_batch_size(8192).build().map_err(unreadable)?;
        Ok(ParquetRows {
            batches,
            rows,
            pending: VecDeque::new(),
            done: false,
        })
    }
}

impl Iterator for ParquetRows {
    type Item = Result<RawRow, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending.is_empty() && !self.done {
            match self.batches.next() {
                None => self.done = true,
                Some(Ok(batch)) => match self.rows.read(&batch) {
                    Ok(rows) => self.pending.extend(rows),
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
                Some(Err(e)) => {
                    // A column chunk that does not decode cannot be skipped past.
                    self.done = true;
                    return Some(Err(DataError::Unreadable {
                        path: self.rows.path().to_owned(),
                        what: "Parquet",
                        source: Box::new(e),
                    }));
                }
            }
        }
        self.pending.pop_front()
    }
}

impl RowSource for ParquetRows {
    fn path(&self) -> &Path {
        self.rows.path()
    }
    fn defaults(&self) -> &[DefaultUsed] {
        self.rows.defaults()
    }
    fn missing(&self) -> BTreeMap<&'static str, u64> {
        self.rows.missing()
    }
    fn has_popularity(&self) -> bool {
        self.rows.has_popularity()
    }
}

/// A Parquet file being written: it appears at its path only on [`ParquetSink::commit`].
pub struct ParquetSink {
    path: PathBuf,
    writer: ArrowWriter<AtomicFile>,
}

/// Why a Parquet file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Creating, writing or renaming the file failed.
    #[error("{}: cannot write the file", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The encoder refused a batch.
    #[error("{}: cannot encode Parquet", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// The encoder's reason.
        #[source]
        source: ParquetError,
    },
}

impl ParquetSink {
    /// Starts a file of batches of `schema`.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<ParquetSink, WriteError> {
        let file = AtomicFile::create(path).map_err(|source| WriteError::Io {
            path: path.to_owned(),
            source,
        })?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let writer = ArrowWriter::try_new(file, schema, Some(properties)).map_err(|source| {
            WriteError::Encode {
                path: path.to_owned(),
                source,
            }
        })?;
        Ok(ParquetSink {
            path: path.to_owned(),
            writer,
        })
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), WriteError> {
        self.writer
            .write(batch)
            .map_err(|source| WriteError::Encode {
                path: self.path.clone(),
                source,
            })
    }

    /// Finishes the file and moves it into place.
    pub fn commit(self) -> Result<(), WriteError> {
        let path = self.path;
        let file = self
            .writer
            .into_inner()
            .map_err(|source| WriteError::Encode {
                path: path.clone(),
                source,
            })?;
        file.commit()
            .map_err(|source| WriteError::Io { path, source })
    }
}
