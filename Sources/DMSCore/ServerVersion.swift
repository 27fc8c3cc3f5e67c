/// Deep Model Server's version, in one place: `deep-model-server --version`, the Open Inference
/// Protocol's server metadata and the pip wheel (`scripts/build-wheel.sh` reads it from this file).
public enum ServerVersion {
    public static let current = "0.1.0"
}
