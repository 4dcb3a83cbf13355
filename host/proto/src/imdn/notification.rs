//! The IMDN notification document (RFC 5438 §7.2.1) in the RFC 5438 XML format.

use crate::dates::Timestamp;

/// XML namespace of the `<imdn>` document (RFC 5438 schema).
pub const IMDN_XML_NAMESPACE: &str = "urn:ietf:params:xml:ns:imdn";

/// MIME type of the document (registered by RFC 5438).
pub const IMDN_CONTENT_TYPE: &str = "message/imdn+xml";

/// One disposition notification about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// `imdn.Message-ID` of the message this notification is about.
    pub message_id: String,
    /// `DateTime` of that message, echoed back (RFC 5438 §7.2.1.1).
    pub datetime: Timestamp,
    /// The recipient that produced the notification.
    pub recipient_uri: Option<String>,
    /// The recipient the sender originally addressed (RFC 5438 §6.4).
    pub original_recipient_uri: Option<String>,
    /// What happened.
    pub kind: NotificationKind,
}

/// Delivery or display notification. Processing notifications (RFC 5438
/// §5.2) come from intermediaries only and are not handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotificationKind {
    /// `<delivery-notification>` (RFC 5438 §7.2.1.1).
    Delivery(DeliveryStatus),
    /// `<display-notification>` (RFC 5438 §7.2.1.2).
    Display(DisplayStatus),
}

/// Status of a delivery notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// `<delivered/>`
    Delivered,
    /// `<failed/>`
    Failed,
    /// `<forbidden/>`
    Forbidden,
    /// `<error/>`
    Error,
}

/// Status of a display notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisplayStatus {
    /// `<displayed/>`
    Displayed,
    /// `<forbidden/>`
    Forbidden,
    /// `<error/>`
    Error,
}

impl NotificationKind {
    /// Element name of the notification (`delivery-notification`, ...).
    pub(crate) fn element(self) -> &'static str {
        match self {
            Self::Delivery(_) => "delivery-notification",
            Self::Display(_) => "display-notification",
        }
    }

    /// Element name of the status inside `<status>` (`delivered`, ...).
    pub(crate) fn status_element(self) -> &'static str {
        match self {
            Self::Delivery(DeliveryStatus::Delivered) => "delivered",
            Self::Delivery(DeliveryStatus::Failed) => "failed",
            Self::Delivery(DeliveryStatus::Forbidden) | Self::Display(DisplayStatus::Forbidden) => {
                "forbidden"
            }
            Self::Delivery(DeliveryStatus::Error) | Self::Display(DisplayStatus::Error) => "error",
            Self::Display(DisplayStatus::Displayed) => "displayed",
        }
    }

    /// The kind named by a notification element and its status element.
    pub(crate) fn from_elements(notification: &str, status: &str) -> Option<Self> {
        let kind = match (notification, status) {
            ("delivery-notification", "delivered") => Self::Delivery(DeliveryStatus::Delivered),
            ("delivery-notification", "failed") => Self::Delivery(DeliveryStatus::Failed),
            ("delivery-notification", "forbidden") => Self::Delivery(DeliveryStatus::Forbidden),
            ("delivery-notification", "error") => Self::Delivery(DeliveryStatus::Error),
            ("display-notification", "displayed") => Self::Display(DisplayStatus::Displayed),
            ("display-notification", "forbidden") => Self::Display(DisplayStatus::Forbidden),
            ("display-notification", "error") => Self::Display(DisplayStatus::Error),
            _ => return None,
        };
        Some(kind)
    }
}
