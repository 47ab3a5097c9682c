package parser

import "strconv"

// Encode returns the text part of the packet: the string the Engine.IO layer
// sends as one text message. The attachments of a binary packet are not part
// of it; send p.Attachments afterwards, in order, as separate binary
// Engine.IO messages.
//
// The format is <type>[<n>-][<nsp>,][<id>][<json>], where "<n>-" is written
// only for BinaryEvent and BinaryAck (n = len(p.Attachments)), the namespace
// only when it is neither "" nor "/", the id only when p.HasID, and the
// payload only when p.Data is non-empty. Attachments of non-binary packets
// are ignored.
//
// Encode does not validate p: it is meant for packets built by trusted code
// on the hot path. A packet that breaks the rules enforced by
// Decoder.AddText (for example a namespace without a leading '/' or with a
// ',' in it, or a binary packet without attachments) is encoded as given and
// will be rejected by the peer.
//
// The result is allocated once, at its exact size.
func (p *Packet) Encode() []byte {
	return AppendEncode(make([]byte, 0, encodedLen(p)), p)
}

// AppendEncode appends the text form of p (see Packet.Encode) to dst and
// returns the extended slice, so that callers can reuse a buffer, or prepend
// the Engine.IO message type, without an extra copy.
func AppendEncode(dst []byte, p *Packet) []byte {
	if p.Type < 10 {
		dst = append(dst, '0'+byte(p.Type))
	} else {
		// Not a valid type; still produce something faithful rather than a
		// byte that would read as a different type.
		dst = strconv.AppendUint(dst, uint64(p.Type), 10)
	}
	if p.Type.isBinary() {
		dst = strconv.AppendUint(dst, uint64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if hasCustomNamespace(p.Namespace) {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// encodedLen is the exact length of p's text form, so Encode allocates once.
func encodedLen(p *Packet) int {
	n := 1
	if p.Type >= 10 {
		n = decimalLen(uint64(p.Type))
	}
	if p.Type.isBinary() {
		n += decimalLen(uint64(len(p.Attachments))) + 1
	}
	if hasCustomNamespace(p.Namespace) {
		n += len(p.Namespace) + 1
	}
	if p.HasID {
		n += decimalLen(p.ID)
	}
	return n + len(p.Data)
}

// hasCustomNamespace reports whether the namespace must be written: the main
// namespace is implied by its absence, and the zero value means the main
// namespace too so that Packet{} literals need not spell it out.
func hasCustomNamespace(nsp string) bool {
	return nsp != "" && nsp != "/"
}

// decimalLen returns the number of decimal digits of v.
func decimalLen(v uint64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}
