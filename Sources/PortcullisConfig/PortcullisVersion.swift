/// The release both executables report.
public enum PortcullisVersion {
    public static let current = "0.1.0"
}
