import PortcullisBus

/// An app's handlers, declared the way Socket.IO and ActionCable servers are written and
/// dispatched from envelopes by the worker:
///
/// ```swift
/// RoomsHandlers { app in
///     app.namespace("/chat") { chat in
///         chat.onConnect { socket in socket.join("lobby") }
///         chat.on("say") { socket, message in
///             let text = try message.argument(0, as: String.self)
///             try socket.to(.room("lobby")).emit("said", text)
///         }
///     }
///     app.channel("ChatChannel") { channel in
///         channel.onSubscribe { subscription in
///             guard let room = subscription.params["room"]?.identifier else { return subscription.reject() }
///             subscription.stream(from: "chat:\(room)")
///         }
///     }
/// }
/// ```
///
/// Dispatch: an envelope whose `ns` is an ActionCable identifier (a JSON object with a
/// `channel`) goes to that channel; any other `ns` (absent means `/`, the raw protocol's
/// and Socket.IO's main namespace) to that namespace, or to the `*` namespace when it is
/// not declared. What neither takes goes to ``onEnvelope(_:)``, or is acknowledged
/// unhandled; without ``onEnvelope(_:)``, a subscription to a channel the app does not
/// declare is rejected, as Rails refuses a channel class it does not have.
public struct RoomsHandlers: Sendable {
    private var namespaces: [String: RoomsNamespace] = [:]
    private var channels: [String: RoomsChannel] = [:]
    private var fallback: (@Sendable (Envelope, RoomsContext) async throws -> Void)?

    public init(_ declare: (inout RoomsHandlers) -> Void) {
        declare(&self)
    }

    /// Declares the handlers of Socket.IO namespace `name` (`/` also serves raw
    /// connections; `*` serves namespaces not declared otherwise).
    public mutating func namespace(_ name: String, _ declare: (inout RoomsNamespace) -> Void) {
        var namespace = self.namespaces[name] ?? RoomsNamespace()
        declare(&namespace)
        self.namespaces[name] = namespace
    }

    /// Declares the handlers of ActionCable channel `name` (the identifier's `channel`).
    public mutating func channel(_ name: String, _ declare: (inout RoomsChannel) -> Void) {
        var channel = self.channels[name] ?? RoomsChannel()
        declare(&channel)
        self.channels[name] = channel
    }

    /// Envelopes no namespace or channel takes, as they came.
    public mutating func onEnvelope(_ handler: @escaping @Sendable (Envelope, RoomsContext) async throws -> Void) {
        self.fallback = handler
    }

    /// Runs the handler the envelope is for. Throws what the handler throws; a
    /// ``RoomsInputError`` means the client's input was unusable.
    public func handle(_ envelope: Envelope, context: RoomsContext) async throws {
        let namespace = envelope.namespace ?? "/"
        if let connection = envelope.connection, namespace.hasPrefix("{"),
            case let params = JSON(parsing: namespace) ?? .null, let name = params["channel"]?.string
        {
            if let channel = self.channels[name] {
                let subscription = RoomsSubscription(
                    context: context, id: connection, identifier: namespace, params: params)
                try await channel.handle(subscription)
            } else if let fallback = self.fallback {
                try await fallback(envelope, context)
            } else if envelope.kind == .open {
                context.reject(connection: connection, namespace: namespace, reason: "unknown channel")
            }
            return
        }
        if let handlers = self.namespaces[namespace] ?? self.namespaces["*"], let connection = envelope.connection {
            try await handlers.handle(RoomsSocket(context: context, id: connection, namespace: namespace))
            return
        }
        try await self.fallback?(envelope, context)
    }
}

/// The handlers of one Socket.IO namespace (or of raw connections, namespace `/`).
public struct RoomsNamespace: Sendable {
    public typealias SocketHandler = @Sendable (RoomsSocket) async throws -> Void
    public typealias EventHandler = @Sendable (RoomsSocket, RoomsMessage) async throws -> Void
    public typealias CloseHandler = @Sendable (RoomsSocket, _ reason: String) async throws -> Void

    private var connect: SocketHandler?
    private var events: [String: EventHandler] = [:]
    private var anyEvent: EventHandler?
    private var acks: EventHandler?
    private var refresh: SocketHandler?
    private var close: CloseHandler?

    init() {}

    /// A socket joined the namespace (its handshake is readable here).
    public mutating func onConnect(_ handler: @escaping SocketHandler) {
        self.connect = handler
    }

    /// The client emitted `event`.
    public mutating func on(_ event: String, _ handler: @escaping EventHandler) {
        self.events[event] = handler
    }

    /// Events without their own handler.
    public mutating func onAny(_ handler: @escaping EventHandler) {
        self.anyEvent = handler
    }

    /// The client answered an emit that asked for an ack (the message's event is empty).
    public mutating func onAck(_ handler: @escaping EventHandler) {
        self.acks = handler
    }

    /// The client refreshed its token in band; ``RoomsSocket/claims`` are the new ones.
    public mutating func onRefresh(_ handler: @escaping SocketHandler) {
        self.refresh = handler
    }

    /// The socket left the namespace or the connection closed, with the edge's reason.
    public mutating func onDisconnect(_ handler: @escaping CloseHandler) {
        self.close = handler
    }

    func handle(_ socket: RoomsSocket) async throws {
        let envelope = socket.context.envelope
        switch envelope.kind {
        case .open:
            try await self.connect?(socket)
        case .message:
            guard let handler = envelope.event.flatMap({ self.events[$0] }) ?? self.anyEvent else { return }
            try await handler(socket, RoomsMessage(context: socket.context))
        case .ack:
            try await self.acks?(socket, RoomsMessage(context: socket.context))
        case .refresh:
            try await self.refresh?(socket)
        case .close:
            try await self.close?(socket, envelope.reason ?? "")
            try await socket.data.delete()
        default:
            break
        }
    }
}

/// The handlers of one ActionCable channel.
public struct RoomsChannel: Sendable {
    public typealias SubscriptionHandler = @Sendable (RoomsSubscription) async throws -> Void
    public typealias ActionHandler = @Sendable (RoomsSubscription, RoomsMessage) async throws -> Void

    private var subscribe: SubscriptionHandler?
    private var actions: [String: ActionHandler] = [:]
    private var anyAction: ActionHandler?
    private var unsubscribe: SubscriptionHandler?

    init() {}

    /// A client subscribed (Rails `subscribed`). The subscription is confirmed when the
    /// handler returns without ``RoomsSubscription/reject()``; the confirmation goes out
    /// before the streams it followed and what it transmitted. Without a handler every
    /// subscription is confirmed.
    public mutating func onSubscribe(_ handler: @escaping SubscriptionHandler) {
        self.subscribe = handler
    }

    /// The client performed `action` (`receive` for a message without one).
    public mutating func on(_ action: String, _ handler: @escaping ActionHandler) {
        self.actions[action] = handler
    }

    /// Actions without their own handler.
    public mutating func onAny(_ handler: @escaping ActionHandler) {
        self.anyAction = handler
    }

    /// The subscription ended (Rails `unsubscribed`): the client unsubscribed or the
    /// connection closed. The edge drops its streams itself.
    public mutating func onUnsubscribe(_ handler: @escaping SubscriptionHandler) {
        self.unsubscribe = handler
    }

    func handle(_ subscription: RoomsSubscription) async throws {
        let context = subscription.context
        let envelope = context.envelope
        switch envelope.kind {
        case .open:
            let mark = context.outputCount
            try await self.subscribe?(subscription)
            if let reason = subscription.verdict.rejection {
                context.truncateOutputs(to: mark)
                context.reject(connection: subscription.id, namespace: subscription.identifier, reason: reason)
            } else {
                let confirm = context.makeOutbound(
                    .confirm, target: .connection(subscription.id), namespace: subscription.identifier)
                context.insert(confirm, at: mark)
            }
        case .message:
            guard let handler = envelope.event.flatMap({ self.actions[$0] }) ?? self.anyAction else { return }
            try await handler(subscription, RoomsMessage(context: context))
        case .close:
            try await self.unsubscribe?(subscription)
            try await subscription.data.delete()
        default:
            break
        }
    }
}
