//! The inverse Transverse Mercator projection by Krüger's series to sixth order in the
//! third flattening (Karney 2011, "Transverse Mercator with an accuracy of a few
//! nanometers", eqs. 11, 15, 35 and 36): accurate to well under a millimetre within a few
//! thousand kilometres of the central meridian, far beyond what UTM and Gauss-Krüger zones
//! cover.

use super::ellipsoid::Ellipsoid;

/// A Transverse Mercator projection: ellipsoid, central meridian, scale and false origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransverseMercator {
    /// The ellipsoid.
    pub ellipsoid: Ellipsoid,
    /// Longitude of the central meridian in degrees.
    pub lon0: f64,
    /// Scale factor on the central meridian.
    pub k0: f64,
    /// False easting in metres.
    pub false_easting: f64,
    /// False northing in metres.
    pub false_northing: f64,
}

impl TransverseMercator {
    /// UTM zone `zone` (1..=60) of WGS 84, north or south hemisphere.
    pub fn utm(zone: u32, south: bool) -> TransverseMercator {
        TransverseMercator {
            ellipsoid: Ellipsoid::WGS84,
            lon0: f64::from(zone) * 6.0 - 183.0,
            k0: 0.9996,
            false_easting: 500_000.0,
            false_northing: if south { 10_000_000.0 } else { 0.0 },
        }
    }

    /// Rectifying radius `A` times `k0` (metres per radian of the conformal sphere).
    fn scale(&self) -> f64 {
        let n = self.ellipsoid.n();
        let n2 = n * n;
        self.ellipsoid.a / (1.0 + n)
            * (1.0 + n2 / 4.0 + n2 * n2 / 64.0 + n2 * n2 * n2 / 256.0)
            * self.k0
    }

    /// Coefficients β₁..β₆ of the series from (ξ, η) back to (ξ', η').
    fn beta(&self) -> [f64; 6] {
        let n = self.ellipsoid.n();
        let (n2, n3) = (n * n, n * n * n);
        let (n4, n5, n6) = (n2 * n2, n2 * n3, n3 * n3);
        [
            n / 2.0 - 2.0 * n2 / 3.0 + 37.0 * n3 / 96.0 - n4 / 360.0 - 81.0 * n5 / 512.0
                + 96_199.0 * n6 / 604_800.0,
            n2 / 48.0 + n3 / 15.0 - 437.0 * n4 / 1440.0 + 46.0 * n5 / 105.0
                - 1_118_711.0 * n6 / 3_870_720.0,
            17.0 * n3 / 480.0 - 37.0 * n4 / 840.0 - 209.0 * n5 / 4480.0 + 5569.0 * n6 / 90_720.0,
            4397.0 * n4 / 161_280.0 - 11.0 * n5 / 504.0 - 830_251.0 * n6 / 7_257_600.0,
            4583.0 * n5 / 161_280.0 - 108_847.0 * n6 / 3_991_680.0,
            20_648_693.0 * n6 / 638_668_800.0,
        ]
    }

    /// Projected `(easting, northing)` in metres to `(longitude, latitude)` in degrees.
    pub fn inverse(&self, easting: f64, northing: f64) -> (f64, f64) {
        let s = self.scale();
        let xi = (northing - self.false_northing) / s;
        let eta = (easting - self.false_easting) / s;
        let (mut xi1, mut eta1) = (xi, eta);
        for (j, b) in self.beta().iter().enumerate() {
            let k = 2.0 * (j + 1) as f64;
            xi1 -= b * (k * xi).sin() * (k * eta).cosh();
            eta1 -= b * (k * xi).cos() * (k * eta).sinh();
        }
        let (sin_xi, cos_xi) = xi1.sin_cos();
        let sinh_eta = eta1.sinh();
        let tau1 = sin_xi / sinh_eta.hypot(cos_xi);
        let lon = sinh_eta.atan2(cos_xi).to_degrees() + self.lon0;
        let lat = conformal_to_geodetic(tau1, self.ellipsoid.e())
            .atan()
            .to_degrees();
        (normalize_lon(lon), lat)
    }
}

/// Solves `τ' = τ √(1+σ²) − σ √(1+τ²)`, `σ = sinh(e atanh(e τ / √(1+τ²)))` for the tangent
/// of geodetic latitude τ by Newton's method (Karney 2011, eqs. 7-9 and 19-21).
fn conformal_to_geodetic(tau1: f64, e: f64) -> f64 {
    let e2m = 1.0 - e * e;
    let mut tau = tau1 / e2m;
    for _ in 0..6 {
        let sigma = (e * (e * tau / tau.hypot(1.0)).atanh()).sinh();
        let tau_i = tau * sigma.hypot(1.0) - sigma * tau.hypot(1.0);
        let d =
            (tau1 - tau_i) / tau_i.hypot(1.0) * (1.0 + e2m * tau * tau) / (e2m * tau.hypot(1.0));
        tau += d;
        if d.abs() <= 1e-15 * tau.abs().max(1.0) {
            break;
        }
    }
    tau
}

/// Longitude wrapped into [-180, 180).
fn normalize_lon(lon: f64) -> f64 {
    let l = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if l.is_finite() { l } else { lon }
}
