//! Reference ellipsoids and the constants derived from them.

/// An ellipsoid of revolution given by its semi-major axis and flattening.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipsoid {
    /// Semi-major axis in metres.
    pub a: f64,
    /// Flattening `(a - b) / a`.
    pub f: f64,
}

impl Ellipsoid {
    /// WGS 84 (EPSG:7030).
    pub const WGS84: Ellipsoid = Ellipsoid {
        a: 6_378_137.0,
        f: 1.0 / 298.257_223_563,
    };

    /// GRS 1980, the ellipsoid of CGCS2000 (EPSG:1024; its flattening differs from
    /// GRS 80's by far less than a millimetre on the ground).
    pub const GRS80: Ellipsoid = Ellipsoid {
        a: 6_378_137.0,
        f: 1.0 / 298.257_222_101,
    };

    /// First eccentricity squared `e² = f (2 - f)`.
    pub fn e2(&self) -> f64 {
        self.f * (2.0 - self.f)
    }

    /// First eccentricity `e`.
    pub fn e(&self) -> f64 {
        self.e2().sqrt()
    }

    /// Semi-minor axis `b = a (1 - f)`.
    pub fn b(&self) -> f64 {
        self.a * (1.0 - self.f)
    }

    /// Third flattening `n = f / (2 - f)`.
    pub fn n(&self) -> f64 {
        self.f / (2.0 - self.f)
    }
}
