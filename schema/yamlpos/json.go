package yamlpos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

var errExpands = errors.New("document expands too much through aliases")

// toJSON writes a node as JSON, for types that only know how to decode
// themselves from JSON (resource.Quantity, intstr.IntOrString,
// metav1.Duration, json.RawMessage).
func (s *state) toJSON(buf *bytes.Buffer, n *yaml.Node) error {
	if s.budget--; s.budget < 0 {
		return errExpands
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			buf.WriteString("null")
			return nil
		}
		return s.toJSON(buf, n.Content[0])
	case yaml.AliasNode:
		if n.Alias == nil {
			return errors.New("unknown alias")
		}
		return s.toJSON(buf, n.Alias)
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := s.toJSON(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case yaml.MappingNode:
		buf.WriteByte('{')
		first := true
		var err error
		s.eachPair(n, func(k, v *yaml.Node) {
			if err != nil {
				return
			}
			if k.Kind != yaml.ScalarNode {
				err = fmt.Errorf("expected a string key, got %s", describe(k))
				return
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			writeJSONString(buf, k.Value)
			buf.WriteByte(':')
			err = s.toJSON(buf, v)
		})
		buf.WriteByte('}')
		return err
	case yaml.ScalarNode:
		return scalarToJSON(buf, n)
	}
	buf.WriteString("null")
	return nil
}

func scalarToJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!null":
		buf.WriteString("null")
	case "!!bool":
		b, _ := parseBool(n)
		buf.WriteString(strconv.FormatBool(b))
	case "!!int":
		i, err := parseInt(n, 64)
		if err != nil {
			return err
		}
		buf.WriteString(strconv.FormatInt(i, 10))
	case "!!float":
		f, err := parseFloat(n)
		if err != nil {
			return err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("%s is not a finite number", describe(n))
		}
		buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	default:
		writeJSONString(buf, n.Value)
	}
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}
