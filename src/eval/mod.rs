pub mod budget;
pub mod error;
pub mod time;
pub mod value;
