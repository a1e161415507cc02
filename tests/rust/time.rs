//! std::time and std::thread: the wall clock is sane, Instant never goes back, sleeping
//! 50 ms takes at least 50 ms (and not seconds), and spawning a thread is refused
//! (wasm32-wasi has none) without bringing the program down.

use std::io::ErrorKind;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// 2020-01-01 and 2100-01-01, in seconds since the epoch.
const YEAR_2020: u64 = 1_577_836_800;
const YEAR_2100: u64 = 4_102_444_800;

fn main() {
    let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert!(
        (YEAR_2020..YEAR_2100).contains(&wall.as_secs()),
        "SystemTime::now() is {wall:?} after the epoch"
    );
    assert!(UNIX_EPOCH.elapsed().unwrap() >= wall);
    println!("wall clock: between 2020 and 2100");

    let start = Instant::now();
    let mut last = start;
    for _ in 0..10_000 {
        let now = Instant::now();
        assert!(now >= last, "Instant went back");
        last = now;
    }
    assert!(last.duration_since(start) < Duration::from_secs(10));
    println!("instant: 10000 readings, never decreasing");

    let before = Instant::now();
    thread::sleep(Duration::from_millis(50));
    let slept = before.elapsed();
    assert!(slept >= Duration::from_millis(50), "slept only {slept:?}");
    assert!(slept < Duration::from_secs(5), "slept {slept:?}");
    println!("sleep(50 ms): at least 50 ms");

    let before = Instant::now();
    for _ in 0..3 {
        thread::sleep(Duration::from_millis(10));
    }
    thread::sleep(Duration::ZERO);
    let slept = before.elapsed();
    assert!(slept >= Duration::from_millis(30), "slept only {slept:?}");
    assert!(before.checked_add(slept).unwrap() <= Instant::now());
    println!("sleep(10 ms) x3, sleep(0): at least 30 ms");

    let spawned = thread::Builder::new().spawn(|| 1 + 1);
    match spawned {
        Ok(_) => panic!("spawning a thread succeeded on wasm32-wasi"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            println!("thread spawn: {:?}", e.kind());
        }
    }
    assert_eq!(thread::current().name(), Some("main"));
    println!("current thread: main");
}
