import PortcullisConfig

extension RedisConfiguration {
    /// Redis Cluster (``RedisSettings/Cluster``): the seed nodes the slot map is first read
    /// from. Every node is reached with the configuration's TLS and credentials.
    public typealias Cluster = RedisSettings.Cluster
}
