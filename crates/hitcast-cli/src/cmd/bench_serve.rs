//! `hitcast bench serve`: start-up time of `hitcast serve` to its first answer, then single
//! predictions at fixed rates over keep-alive connections on loopback, with latency percentiles.
//!
//! The load is open-loop: each request has a scheduled send time, and its latency counts from
//! then, so a slow answer that delays the next send shows in the figures (no coordinated
//! omission). Written here rather than with wrk or oha so that it needs nothing installed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;

use crate::dataset::DataArgs;

/// Flags of `hitcast bench serve`.
#[derive(Debug, Args)]
pub struct ServeBenchArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The model file to serve.
    #[arg(long, value_name = "MODEL")]
    model: PathBuf,
    /// Request rates to try, per second (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [250u32, 500, 1000, 2000, 4000, 8000])]
    rates: Vec<u32>,
    /// Seconds at each rate.
    #[arg(long, default_value_t = 5, value_parser = crate::flags::at_least_1::<u64>)]
    seconds: u64,
    /// Keep-alive connections sharing the load.
    #[arg(long, default_value_t = 4, value_parser = crate::flags::at_least_1::<u32>)]
    connections: u32,
    /// Also time `GET /healthz` at the same rates: the floor of HTTP, the client and the
    /// scheduler, without the model.
    #[arg(long)]
    floor: bool,
    /// Server starts timed for the start-up figure.
    #[arg(long, default_value_t = 5, value_parser = crate::flags::at_least_1::<u32>)]
    starts: u32,
}

/// One request: the dataset's first track.
const BODY: &str = r#"{"track_id":"5SuOikwiRyPMVoIQDJUgSV","track_name":"Comedy","artists":"Gen Hoshino","duration_ms":230666,"explicit":false,"danceability":0.676,"energy":0.461,"key":1,"loudness":-6.746,"mode":0,"speechiness":0.143,"acousticness":0.0322,"instrumentalness":0.00000101,"liveness":0.358,"valence":0.715,"tempo":87.917,"time_signature":4,"genres":["acoustic"]}"#;

/// A `hitcast serve` child process, killed when dropped.
struct Served {
    child: Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServeBenchArgs {
    /// Starts the server and waits for its first answer; returns it and the time taken.
    fn start(&self) -> anyhow::Result<(Served, Duration)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["-q", "serve", "--addr", &addr, "--model"])
            .arg(&self.model)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Ok(path) = self.data.path() {
            command.arg("--data").arg(path);
        }
        let started = Instant::now();
        let child = command.spawn().context("cannot start hitcast serve")?;
        let served = Served { child, addr };
        loop {
            if let Ok(mut c) = Connection::open(&served.addr) {
                if c.send("GET", "/healthz", "")
                    .is_ok_and(|status| status == 200)
                {
                    return Ok((served, started.elapsed()));
                }
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("hitcast serve did not answer within 30 s");
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    /// Runs the benchmark and prints its table.
    pub fn run(self) -> anyhow::Result<()> {
        let mut startups = Vec::new();
        for _ in 0..self.starts {
            let (served, took) = self.start()?;
            drop(served);
            startups.push(took);
        }
        startups.sort();
        println!(
            "start-up to the first answer of GET /healthz: median {:.0} ms (min {:.0}, max {:.0}; {} starts, process spawn and model load included)",
            ms(startups[startups.len() / 2]),
            ms(startups[0]),
            ms(startups[startups.len() - 1]),
            startups.len()
        );
        let (served, _) = self.start()?;
        // Warm up: connections, page cache, allocator.
        let predict = Request::Predict;
        run_rate(
            &served.addr,
            predict,
            500,
            Duration::from_secs(1),
            self.connections,
        )?;
        if self.floor {
            self.table(&served, Request::Health)?;
        }
        self.table(&served, predict)
    }

    fn table(&self, served: &Served, request: Request) -> anyhow::Result<()> {
        println!(
            "\n{}, {} keep-alive connections, {} s per rate (open loop):\n",
            request.describe(),
            self.connections,
            self.seconds
        );
        println!("  target/s   achieved/s    p50 ms    p99 ms    max ms   errors   from send: p50 ms    p99 ms");
        let mut best = (None, None);
        for &rate in &self.rates {
            let r = run_rate(
                &served.addr,
                request,
                rate,
                Duration::from_secs(self.seconds),
                self.connections,
            )?;
            println!(
                "  {rate:>8} {:>12.0} {:>9.3} {:>9.3} {:>9.3} {:>8} {:>19.3} {:>9.3}",
                r.achieved, r.p50, r.p99, r.max, r.errors, r.send_p50, r.send_p99
            );
            if r.errors == 0 && r.p99 < 2.0 {
                best.0 = Some(rate);
            }
            if r.errors == 0 && r.send_p99 < 2.0 {
                best.1 = Some(rate);
            }
        }
        let said = |rate: Option<u32>| rate.map_or_else(|| "none".to_owned(), |r| format!("{r}/s"));
        println!(
            "\nhighest rate with p99 < 2 ms: {} from the scheduled send time, {} from the actual send",
            said(best.0),
            said(best.1)
        );
        Ok(())
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Figures of one rate.
struct RateResult {
    achieved: f64,
    p50: f64,
    p99: f64,
    max: f64,
    /// The same from the moment the request was written (the client's own lateness left out).
    send_p50: f64,
    send_p99: f64,
    errors: u64,
}

/// What the load sends.
#[derive(Clone, Copy, Debug)]
enum Request {
    Predict,
    Health,
}

impl Request {
    fn describe(self) -> &'static str {
        match self {
            Request::Predict => "POST /api/v1/predict, one track",
            Request::Health => "GET /healthz (the floor: no model)",
        }
    }

    fn send(self, c: &mut Connection) -> std::io::Result<u16> {
        match self {
            Request::Predict => c.send("POST", "/api/v1/predict", BODY),
            Request::Health => c.send("GET", "/healthz", ""),
        }
    }
}

fn run_rate(
    addr: &str,
    request: Request,
    rate: u32,
    length: Duration,
    connections: u32,
) -> anyhow::Result<RateResult> {
    let interval = Duration::from_secs_f64(f64::from(connections) / f64::from(rate));
    let start = Instant::now() + Duration::from_millis(50);
    let workers: Vec<_> = (0..connections)
        .map(|k| {
            let addr = addr.to_owned();
            // Connections start staggered across one interval.
            let first = start + interval.mul_f64(f64::from(k) / f64::from(connections));
            std::thread::spawn(
                move || -> anyhow::Result<(Vec<(Duration, Duration)>, u64)> {
                    let mut c = Connection::open(&addr)?;
                    let mut latencies = Vec::new();
                    let mut errors = 0;
                    let mut due = first;
                    while due < start + length {
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        let sent = Instant::now();
                        match request.send(&mut c) {
                            Ok(200) => latencies.push((due.elapsed(), sent.elapsed())),
                            _ => {
                                errors += 1;
                                c = Connection::open(&addr)?;
                            }
                        }
                        due += interval;
                    }
                    Ok((latencies, errors))
                },
            )
        })
        .collect();
    let mut from_due = Vec::new();
    let mut from_send = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w
            .join()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))??;
        for (due, send) in l {
            from_due.push(due);
            from_send.push(send);
        }
        errors += e;
    }
    from_due.sort();
    from_send.sort();
    let at = |all: &[Duration], q: f64| {
        all.get(((all.len() as f64 - 1.0) * q).round() as usize)
            .map_or(f64::NAN, |d| ms(*d))
    };
    Ok(RateResult {
        achieved: from_due.len() as f64 / length.as_secs_f64(),
        p50: at(&from_due, 0.5),
        p99: at(&from_due, 0.99),
        max: at(&from_due, 1.0),
        send_p50: at(&from_send, 0.5),
        send_p99: at(&from_send, 0.99),
        errors,
    })
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    addr: String,
}

impl Connection {
    fn open(addr: &str) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Connection {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            addr: addr.to_owned(),
        })
    }

    /// Sends one request and reads the whole answer; returns its status.
    fn send(&mut self, method: &str, path: &str, body: &str) -> std::io::Result<u16> {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        self.writer.write_all(request.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = 0;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(status)
    }
}
