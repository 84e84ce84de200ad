use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A 10-digit NHS number whose 10th digit passes the modulus 11 check (NHS Data Dictionary,
/// "NHS NUMBER": weights 10..2 over the first nine digits; 11 − (sum mod 11), 11 → 0, 10 invalid).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NhsNumber(String);

impl NhsNumber {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The check digit for nine digits, or `None` when the remainder makes the number invalid.
    pub fn check_digit(first_nine: &[u8; 9]) -> Option<u8> {
        let sum: u32 = first_nine
            .iter()
            .zip((2..=10).rev())
            .map(|(d, w)| u32::from(*d) * w)
            .sum();
        match 11 - (sum % 11) {
            11 => Some(0),
            10 => None,
            n => Some(n as u8),
        }
    }
}

// Never print the number itself in debug output: it identifies a patient.
impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NhsNumber(***)")
    }
}

impl FromStr for NhsNumber {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // People write "943 476 5919" or "943-476-5919"; accept the spacing, keep the digits.
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.chars().any(|c| !c.is_ascii_digit()) {
            return Err(ValidationError::InvalidNhsNumber {
                reason: "it must contain only digits",
            });
        }
        if compact.len() != 10 {
            return Err(ValidationError::InvalidNhsNumber {
                reason: "it must be exactly 10 digits",
            });
        }
        let digits: Vec<u8> = compact.bytes().map(|b| b - b'0').collect();
        let mut nine = [0u8; 9];
        nine.copy_from_slice(&digits[..9]);
        match Self::check_digit(&nine) {
            Some(d) if d == digits[9] => Ok(NhsNumber(compact)),
            _ => Err(ValidationError::InvalidNhsNumber {
                reason: "the check digit does not match",
            }),
        }
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<NhsNumber> for String {
    fn from(n: NhsNumber) -> String {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dictionary_example_is_valid_with_or_without_spaces() {
        // 943 476 5919 is the NHS Data Dictionary's worked example.
        assert!("9434765919".parse::<NhsNumber>().is_ok());
        assert_eq!(
            "943 476 5919"
                .parse::<NhsNumber>()
                .map(|n| n.as_str().to_owned()),
            Ok("9434765919".into())
        );
        assert!("943-476-5919".parse::<NhsNumber>().is_ok());
    }

    #[test]
    fn wrong_check_digit_is_refused_with_a_clear_reason() {
        let err = "9434765918".parse::<NhsNumber>().unwrap_err();
        assert_eq!(
            err,
            ValidationError::InvalidNhsNumber {
                reason: "the check digit does not match"
            }
        );
        assert!(err.to_string().contains("check digit"));
    }

    #[test]
    fn remainder_ten_can_never_be_valid() {
        // 1000000060: weighted sum 10*1 + 2*6 = 22 → 11 − 0 = 11 → 0; make one giving 10:
        // first nine 0,0,0,0,0,0,0,0,1 → sum 2 → 11 − 2 = 9. Search for a remainder-1 case.
        let nine = [0, 0, 0, 0, 0, 0, 0, 0, 5]; // 5*2 = 10 → 11 − 10 = 1
        assert_eq!(NhsNumber::check_digit(&nine), Some(1));
        let ten = [1, 0, 0, 0, 0, 0, 0, 0, 0]; // 1*10 = 10 → 11 − 10 = 1
        assert_eq!(NhsNumber::check_digit(&ten), Some(1));
        let r1 = [0, 0, 0, 0, 0, 0, 0, 2, 0]; // 2*3 = 6 → 5
        assert_eq!(NhsNumber::check_digit(&r1), Some(5));
        let gives_ten = [0, 0, 0, 0, 0, 0, 0, 0, 6]; // 12 mod 11 = 1 → 10 → invalid
        assert_eq!(NhsNumber::check_digit(&gives_ten), None);
        assert!("0000000060".parse::<NhsNumber>().is_err());
    }

    #[test]
    fn letters_and_wrong_lengths_are_refused() {
        assert!(matches!(
            "94347659A9".parse::<NhsNumber>(),
            Err(ValidationError::InvalidNhsNumber { .. })
        ));
        assert!(matches!(
            "943476591".parse::<NhsNumber>(),
            Err(ValidationError::InvalidNhsNumber { .. })
        ));
        assert!(matches!(
            "94347659190".parse::<NhsNumber>(),
            Err(ValidationError::InvalidNhsNumber { .. })
        ));
    }

    #[test]
    fn debug_output_hides_the_number() {
        let n: NhsNumber = "9434765919".parse().unwrap();
        assert!(!format!("{n:?}").contains("943"));
    }
}
