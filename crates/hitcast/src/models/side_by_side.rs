//! Fits side by side on the two cores: the network's, which run on one thread, beside the
//! others, which spread over whatever core is free.

use rayon::prelude::*;

/// Runs every job: those that `alone` marks (fits that run on one thread) one after another on
/// one core, and the rest one after another beside them, each of those spreading over whatever
/// core is free; a network's fit would otherwise leave the second core idle. With nothing
/// beside them, the lone jobs run side by side with each other. The results come back in
/// `jobs`' order; of several failures, the first job's in that order wins, so the error does
/// not depend on which core finished first.
///
/// Two fits at once hold two fits' memory: only the network's fits (a float32 copy of their
/// rows) run beside another.
pub(crate) fn side_by_side<J: Sync, T: Send, E: Send>(
    jobs: &[J],
    alone: impl Fn(&J) -> bool,
    run: impl Fn(&J) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    let (lone, rest): (Vec<usize>, Vec<usize>) = (0..jobs.len()).partition(|&i| alone(&jobs[i]));
    let one = |i: usize| run(&jobs[i]).map(|t| (i, t)).map_err(|e| (i, e));
    let in_turn = |indices: &[usize]| -> Result<Vec<(usize, T)>, (usize, E)> {
        indices.iter().map(|&i| one(i)).collect()
    };
    let (a, b) = if rest.is_empty() {
        // Every job runs; the first failure in `jobs`' order is kept, not the first to end.
        let each: Vec<_> = lone.par_iter().map(|&i| one(i)).collect();
        (each.into_iter().collect(), Ok(Vec::new()))
    } else if lone.is_empty() {
        (Ok(Vec::new()), in_turn(&rest))
    } else {
        rayon::join(|| in_turn(&lone), || in_turn(&rest))
    };
    let mut done = match (a, b) {
        (Ok(mut a), Ok(b)) => {
            a.extend(b);
            a
        }
        (Err((_, e)), Ok(_)) | (Ok(_), Err((_, e))) => return Err(e),
        (Err((i, e)), Err((j, f))) => return Err(if i < j { e } else { f }),
    };
    done.sort_unstable_by_key(|&(i, _)| i);
    Ok(done.into_iter().map(|(_, t)| t).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_keeps_the_jobs_order_and_the_first_failure_in_it() {
        // Odd jobs "fit on one thread": they run beside the even ones, and the slow first job
        // makes the other side finish first.
        let slow_then_square = |&i: &u64| -> Result<u64, String> {
            if i == 1 {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Ok(i * i)
        };
        let jobs: Vec<u64> = (0..7).collect();
        let odd = |i: &u64| i % 2 == 1;
        assert_eq!(
            side_by_side(&jobs, odd, slow_then_square),
            Ok(vec![0, 1, 4, 9, 16, 25, 36])
        );
        // Jobs 3 and 4 fail, on either side: job 3's error is the one returned, however the
        // two sides are timed.
        let failing = |&i: &u64| -> Result<u64, String> {
            if i == 3 {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            if i == 3 || i == 4 {
                return Err(format!("job {i}"));
            }
            Ok(i)
        };
        assert_eq!(side_by_side(&jobs, odd, failing), Err("job 3".to_owned()));
        // All lone, so run side by side with each other: jobs 3 and 4 both fail, and job 3's
        // error is still the one returned though job 4 ends first.
        assert_eq!(
            side_by_side(&jobs, |_| true, failing),
            Err("job 3".to_owned())
        );
        // All on one side, or none.
        for alone in [true, false] {
            assert_eq!(
                side_by_side(&jobs, |_| alone, |&i| Ok::<_, String>(i)),
                Ok(jobs.clone())
            );
        }
        assert_eq!(
            side_by_side(&[] as &[u64], odd, |&i| Ok::<_, String>(i)),
            Ok(vec![])
        );
    }
}
