import PortcullisConfig

/// Renders listeners, upstreams and routes as aligned text for `portcullis check`.
enum RouteTablePrinter {
    static func describe(_ configuration: Configuration) -> String {
        var lines: [String] = []
        lines.append("edge \(configuration.edge.id)")
        lines.append("")
        lines.append("listeners:")
        lines += table(
            configuration.listeners.map { listener in
                let tls =
                    listener.tls.map {
                        "tls (\($0.certificates.count) certificate\($0.certificates.count == 1 ? "" : "s"))"
                    } ?? "plain"
                return [listener.name, listener.address.description, tls]
            }
        )
        lines.append("  admin  \(configuration.admin.address)")
        lines.append("")
        lines.append("upstreams:")
        lines += table(
            configuration.upstreams.keys.sorted().map { name in
                let upstream = configuration.upstreams[name]!
                return [name, upstream.servers.map(\.description).joined(separator: ", ")]
            }
        )
        lines.append("")
        lines.append("routes:")
        var rows = [["NAME", "HOST", "PATH", "METHODS", "TARGET", "STRIP", "MAX BODY", "DEFINED AT"]]
        for route in configuration.routes {
            rows.append([
                route.name,
                route.match.host ?? "*",
                route.match.path,
                route.match.methods.isEmpty ? "any" : route.match.methods.joined(separator: ","),
                route.proxy?.upstream ?? route.socket.map {
                    "socket \($0.app) (\($0.wireProtocol == .raw ? "raw \($0.mode.rawValue)" : $0.wireProtocol.rawValue))"
                } ?? "",
                route.proxy?.stripPrefix == true ? "yes" : "no",
                Self.size(route.maxBodySize),
                "\(route.location.file):\(route.location.line)",
            ])
        }
        lines += table(rows)
        return lines.joined(separator: "\n")
    }

    /// A size as the conf writes it: `16MiB`, `512KiB`, `1000` bytes as `1000`.
    static func size(_ bytes: Int) -> String {
        for (unit, scale) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(unit)"
        }
        return "\(bytes)"
    }

    private static func table(_ rows: [[String]]) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = Array(repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            "  "
                + row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }.joined(separator: "  ")
        }
    }
}
