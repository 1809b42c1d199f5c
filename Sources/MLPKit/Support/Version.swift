/// The toolchain's version, recorded in every model it saves.
public let mlpVersion = "0.1.0"
