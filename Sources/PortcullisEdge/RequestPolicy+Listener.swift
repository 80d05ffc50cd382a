import PortcullisConfig
import PortcullisHTTP

extension RequestPolicy {
    /// The strict request path's rules for one listener.
    init(listener: Listener) {
        let underscores: UnderscoreHeaders =
            switch listener.underscoreHeaders {
            case .keep: .keep
            case .drop: .drop
            case .reject: .reject
            }
        self.init(
            limits: HeadLimits(
                maxRequestLine: listener.maxRequestLine, maxHeadSize: listener.maxHeaderSize,
                maxFields: listener.maxHeaders),
            mergeSlashes: listener.mergeSlashes,
            underscoreHeaders: underscores,
            defaultHost: listener.defaultHost
        )
    }
}
