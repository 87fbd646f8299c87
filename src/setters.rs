//! Chainable setters for option structs. Option structs are `#[non_exhaustive]`, so that a
//! new option is not a breaking change; callers outside the crate then build them from their
//! defaults and these setters (`ChangeOptions::new().with_method(m)`) or by assigning the
//! public fields of a value they hold.

/// `with_FIELD(value) -> Self` for each `with_FIELD => FIELD: Type` given.
macro_rules! with_setters {
    ($ty:ty { $($setter:ident => $field:ident: $fty:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("This value with `", stringify!($field), "` set to `value`.")]
                #[must_use]
                pub fn $setter(mut self, value: $fty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}
