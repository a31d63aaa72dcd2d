//! The pieces of the `aec` binary.

pub use aec_cli_args as args;
pub mod batch;
pub mod colorize;
pub mod commands;
pub mod features;
pub mod io;
pub mod memory;

/// The device the networks run on, chosen once by `--backend` (flex until then).
static DEVICE: std::sync::OnceLock<burn::prelude::Device> = std::sync::OnceLock::new();

/// Chooses the device for the rest of the process (the first choice stands).
pub fn set_device(device: burn::prelude::Device) {
    let _ = DEVICE.set(device);
}

/// The device of a `--backend`.
pub fn device_of(backend: args::BackendArg) -> burn::prelude::Device {
    match backend {
        args::BackendArg::Flex => burn::prelude::Device::flex(),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)] // burn marks ndarray deprecated; it stays as the reference backend.
        args::BackendArg::Ndarray => burn::prelude::Device::ndarray(),
        #[cfg(feature = "vulkan")]
        args::BackendArg::Vulkan => burn::prelude::Device::vulkan(burn::tensor::DeviceKind::DefaultDevice),
    }
}

/// The device chosen with `--backend`.
pub fn device() -> burn::prelude::Device {
    DEVICE.get_or_init(burn::prelude::Device::flex).clone()
}

/// The process exit code for an error (see the binary's documentation).
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<io::WouldOverwrite>().is_some() {
        return 5;
    }
    match error.downcast_ref::<aec::Error>() {
        Some(aec::Error::Format(_) | aec::Error::Image { .. } | aec::Error::Idx { .. } | aec::Error::TooLarge { .. }) => 3,
        Some(aec::Error::UnknownModel { .. }) => 4,
        Some(aec::Error::InvalidArgument(_)) => 2,
        _ => 1,
    }
}

/// One line for an error: its context and causes joined by ": ", each said once (a cause that
/// its parent's message already quotes is not repeated).
pub fn message(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_arguments_defaults_are_the_librarys() {
        assert_eq!(super::args::DEFAULT_MAX_PIXELS, aec::format::Limits::default().max_pixels);
        assert_eq!(super::args::DIGIT_DEFAULT_QUALITY, aec::codec::digits::DIGIT_DEFAULT_QUALITY);
    }

    #[test]
    fn byte_counts_take_binary_units_and_refuse_the_rest() {
        use super::args::parse_bytes;
        assert_eq!(parse_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_bytes(" 2g "), Ok(2 << 30));
        assert_eq!(parse_bytes("1000"), Ok(1000));
        for bad in ["", "M", "12X", "-1", "99999999999T"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?}");
        }
    }
}
