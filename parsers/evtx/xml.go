package evtx

import (
	"encoding/xml"
	"strings"
)

// XML renders the element tree as indented XML, for display and for
// comparison with other readers' output.
func (n *Node) XML() string {
	var sb strings.Builder
	n.writeXML(&sb, 0)
	return sb.String()
}

func (n *Node) writeXML(sb *strings.Builder, depth int) {
	ind := strings.Repeat("  ", depth)
	sb.WriteString(ind)
	sb.WriteByte('<')
	sb.WriteString(n.Name)
	for _, a := range n.Attrs {
		sb.WriteByte(' ')
		sb.WriteString(a.Name)
		sb.WriteString(`="`)
		xml.EscapeText(sb, []byte(a.Value))
		sb.WriteByte('"')
	}
	if len(n.Children) == 0 && n.Text == "" {
		sb.WriteString("/>\n")
		return
	}
	sb.WriteByte('>')
	if len(n.Children) == 0 {
		xml.EscapeText(sb, []byte(n.Text))
	} else {
		sb.WriteByte('\n')
		if n.Text != "" {
			sb.WriteString(ind + "  ")
			xml.EscapeText(sb, []byte(n.Text))
			sb.WriteByte('\n')
		}
		for _, c := range n.Children {
			c.writeXML(sb, depth+1)
		}
		sb.WriteString(ind)
	}
	sb.WriteString("</" + n.Name + ">\n")
}
