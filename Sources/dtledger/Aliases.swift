import Events

/// The envelope module's validation error (ArgumentParser has a type of the same name).
typealias InputError = ValidationError
