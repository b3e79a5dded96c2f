package localcp

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/test/envtest"
)

func TestStartWithoutBinariesNamesTheMakeTarget(t *testing.T) {
	_, err := Start(Options{BinDir: t.TempDir(), DataDir: t.TempDir()})
	if !errors.Is(err, ErrMissingBinaries) {
		t.Fatalf("got %v, want ErrMissingBinaries", err)
	}
	if want := "make tools"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	bin, err := envtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	ctx := context.Background()

	cp, err := Start(Options{BinDir: bin, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cp.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kept", Namespace: "default"}, Data: map[string]string{"a": "b"}}
	if err := c.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := cp.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if out, err := exec.Command("pgrep", "-f", filepath.Join(bin, name)+".*"+data).CombinedOutput(); err == nil {
			t.Errorf("%s still running after Stop: %s", name, out)
		}
	}

	cp, err = Start(Options{BinDir: bin, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	c, err = client.New(cp.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(cm), got); err != nil {
		t.Fatalf("the object did not survive a restart: %v", err)
	}
	if got.Data["a"] != "b" {
		t.Errorf("data %v", got.Data)
	}
	if cp.Kubeconfig != filepath.Join(data, "kubeconfig") {
		t.Errorf("kubeconfig at %s", cp.Kubeconfig)
	}
}
