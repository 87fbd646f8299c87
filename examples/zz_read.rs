use landwatch::io::*;
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let info = read_info(&p).unwrap();
    let t = std::time::Instant::now();
    for k in 0..16 {
        let row = k * 1024;
        let _ = read_window(&p, 0, row, info.width, 64, &ReadLimits::default()).unwrap();
    }
    println!("16 windows of 64 rows: {:.2} s", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    let _ = read_window(&p, 0, 0, info.width, 512, &ReadLimits::default()).unwrap();
    println!("one 512-row strip: {:.2} s", t.elapsed().as_secs_f64());
}
