import Foundation

/// Why an S3 location, the AWS credentials or the AWS settings of the environment cannot be used.
///
/// One error type for everything this module refuses, so that the caller maps it to its own error
/// in one place. The message is meant for the user as it is: it names the offending location,
/// variable, file or line, and never contains a secret.
public struct S3ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in one sentence.
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
