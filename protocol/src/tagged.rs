//! `tagged_enum!`: one enum, two wire shapes. JSON (human-readable) sees an
//! internally tagged object `{"type": "...", ...fields}`; postcard (binary)
//! sees a plain externally tagged enum, because postcard cannot decode
//! internally tagged enums (it is not self-describing).
//!
//! Every variant wraps one struct; the binary tag is the variant's position,
//! so variants are only ever appended, never reordered.

/// Declares an enum of newtype variants with the dual serde representation.
#[macro_export]
#[doc(hidden)]
macro_rules! tagged_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $var:ident($ty:ty) = $tag:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $var($ty), )*
        }

        const _: () = {
            #[derive(serde::Serialize)]
            #[serde(tag = "type")]
            enum JsonRef<'a> { $( #[serde(rename = $tag)] $var(&'a $ty), )* }

            #[derive(serde::Deserialize)]
            #[serde(tag = "type")]
            enum JsonOwned { $( #[serde(rename = $tag)] $var($ty), )* }

            #[derive(serde::Serialize)]
            enum BinRef<'a> { $( $var(&'a $ty), )* }

            #[derive(serde::Deserialize)]
            enum BinOwned { $( $var($ty), )* }

            impl serde::Serialize for $name {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    if s.is_human_readable() {
                        match self { $( $name::$var(v) => JsonRef::$var(v), )* }.serialize(s)
                    } else {
                        match self { $( $name::$var(v) => BinRef::$var(v), )* }.serialize(s)
                    }
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    if d.is_human_readable() {
                        Ok(match JsonOwned::deserialize(d)? { $( JsonOwned::$var(v) => $name::$var(v), )* })
                    } else {
                        Ok(match BinOwned::deserialize(d)? { $( BinOwned::$var(v) => $name::$var(v), )* })
                    }
                }
            }

            impl $name {
                /// Every `type` tag, in declaration (binary index) order.
                pub const TAGS: &'static [&'static str] = &[ $( $tag, )* ];

                /// The `type` tag this value carries on the JSON wire.
                pub fn tag(&self) -> &'static str {
                    match self { $( $name::$var(_) => $tag, )* }
                }
            }
        };
    };
}
