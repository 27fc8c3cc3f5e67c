/// The pixel layout an ``ImageDecoder`` produces, named after MXNet's `mx.img.imdecode` flags.
public enum ColorMode: Sendable {
    /// Three interleaved channels in RGB order (`flag=1, to_rgb=True`).
    case rgb
    /// One channel (`flag=0`).
    case gray
}
