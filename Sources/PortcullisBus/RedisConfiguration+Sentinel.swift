import Logging
import NIOCore
import PortcullisConfig

extension RedisConfiguration {
    /// Redis Sentinel discovery (``RedisSettings/Sentinel``): the sentinels' addresses, asked
    /// in order, and the master's name. Sentinels are reached over plain TCP without AUTH;
    /// the master with the configuration's TLS and credentials.
    public typealias Sentinel = RedisSettings.Sentinel
}

extension RedisSettings.Sentinel {
    /// Asks the sentinels in order for the master's address (`SENTINEL
    /// get-master-addr-by-name`); the first answer wins.
    ///
    /// Fails with ``RedisError/Code/connectFailed`` (retry-safe) when no sentinel answers
    /// with an address.
    func masterEndpoint(
        connectTimeout: Duration,
        on eventLoop: any EventLoop,
        logger: Logger
    ) -> EventLoopFuture<RedisConfiguration.Endpoint> {
        self.ask(index: 0, failures: [], connectTimeout: connectTimeout, on: eventLoop, logger: logger)
    }

    private func ask(
        index: Int,
        failures: [String],
        connectTimeout: Duration,
        on eventLoop: any EventLoop,
        logger: Logger
    ) -> EventLoopFuture<RedisConfiguration.Endpoint> {
        guard index < self.addresses.count else {
            return eventLoop.makeFailedFuture(
                RedisError(
                    code: .connectFailed,
                    message: "no sentinel gave the address of master '\(self.masterName)': "
                        + failures.joined(separator: "; "),
                    isRetrySafe: true
                )
            )
        }
        let address = self.addresses[index]
        let sentinel = RedisConfiguration(
            endpoint: .tcp(host: address.host, port: address.port),
            connectTimeout: connectTimeout
        )
        let name = self.masterName
        return RedisConnection.makeConnection(to: sentinel, on: eventLoop, logger: logger).flatMap { connection in
            connection.send(["SENTINEL", "get-master-addr-by-name", RedisArgument(name)]).always { _ in
                connection.close()
            }
        }.flatMapThrowing { reply -> RedisConfiguration.Endpoint in
            guard case .array(let items) = reply, items.count == 2, let host = items[0].string,
                let port = items[1].string.flatMap({ Int($0) })
            else {
                throw RedisError(code: .unexpectedReply, message: "\(address) does not know master '\(name)'")
            }
            return .tcp(host: host, port: port)
        }.flatMapError { error in
            let reason = (error as? RedisError)?.message ?? "\(error)"
            return self.ask(
                index: index + 1,
                failures: failures + ["\(address): \(reason)"],
                connectTimeout: connectTimeout,
                on: eventLoop,
                logger: logger
            )
        }
    }
}
